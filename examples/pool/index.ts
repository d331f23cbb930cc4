// The Pool resource: name the pool the connection points at, give it a shared
// default SR for new disks, and own a tag and an other_config key on it.
// See docs/resources/pool.md.
//
// A pool cannot be created through XAPI, so `new xen.Pool(...)` adopts the pool
// of the connection; destroying the stack leaves the pool and its hosts alone.
import * as pulumi from "@pulumi/pulumi";
import * as xen from "pulumi-xenserver";

export = async () => {
  const config = new pulumi.Config("example");
  const nfsServer = config.get("nfsServer") ?? "192.0.2.10";

  // A lookup runs when the program runs: the hosts already in the pool.
  const hosts = await xen.getHosts();

  // In a pool of several hosts the default SR must be shared (NFS here), or
  // the preview fails: `defaultSr: SR "Local storage" is local to one host; …`.
  const shared = new xen.Sr("shared-store", {
    type: "nfs",
    name: "example-shared-store",
    description: "default SR for new disks and suspend images",
    deviceConfig: { server: nfsServer, serverpath: "/exports/example-pool", nfsversion: "4.1" },
  });

  const pool = new xen.Pool("pool", {
    name: "example-pool",
    description: "managed by the pulumi-xenserver pool example",
    defaultSr: shared.uuid,
    suspendImageSr: shared.uuid,
    otherConfig: { "example:owner": "infra-team" },
    tags: ["example"],
  });

  return {
    pool: pool.uuid,
    name: pool.liveName,
    master: pool.master,
    hosts: pool.hosts,
    hostNames: hosts.map((h) => h.name),
    defaultSr: shared.uuid,
  };
};
