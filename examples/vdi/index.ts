// The Vdi resource: empty disks on the pool's default SR and on a shared NFS
// SR, and a read-only reference to an existing ISO found with lookups.
// See docs/resources/vdi.md.
//
// Growing `size` later resizes a disk in place; shrinking it fails the preview;
// a different `sr` plans a replacement (a new, empty disk).
import * as pulumi from "@pulumi/pulumi";
import * as xen from "pulumi-xenserver";

export = async () => {
  const config = new pulumi.Config("example");
  const nfsServer = config.get("nfsServer") ?? "192.0.2.10";

  // The pool's default SR (on the simulator: the master's "Local storage").
  // getSr({ name: "Local storage" }) would be ambiguous: every host has one.
  const pool = await xen.getPool();
  if (!pool.defaultSrUuid) throw new Error("this pool has no default SR; set one (see examples/pool)");
  const defaultSr = await xen.getSr({ uuid: pool.defaultSrUuid });

  const boot = new xen.Vdi("boot", {
    sr: defaultSr.uuid,
    name: "example-boot",
    description: `boot disk on ${defaultSr.name}`,
    size: "20GiB",
    tags: ["example"],
  });

  // Shared storage, so the disks can follow a VM to any host.
  const shared = new xen.Sr("shared", {
    type: "nfs",
    name: "example-disks",
    deviceConfig: { server: nfsServer, serverpath: "/exports/example-disks" },
  });

  const data = new xen.Vdi("data", {
    sr: shared.uuid,
    name: "example-data",
    size: 100 * 1024 ** 3, // bytes work too
    otherConfig: { "example:backup": "nightly" },
  });

  const quorum = new xen.Vdi("quorum", {
    sr: shared.uuid,
    name: "example-quorum",
    size: "512MiB",
    sharable: true, // attachable to several VMs at once (cluster quorum disk)
  });

  // An existing disk, read but never changed or deleted by this stack.
  const isoInfo = await xen.getVdi({ name: "debian-12.7.0-amd64-netinst.iso" });
  const installer = xen.Vdi.get("debian-installer", isoInfo.uuid);

  return {
    boot: { uuid: boot.uuid, virtualSize: boot.virtualSize },
    data: { uuid: data.uuid, virtualSize: data.virtualSize },
    quorum: quorum.uuid,
    installer: { uuid: installer.uuid, sr: installer.sr, virtualSize: installer.virtualSize },
  };
};
