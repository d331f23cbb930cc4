// The Sr resource: shared storage on NFS and SMB, an ISO library on NFS, and
// a local SR formatted on a spare disk of one host (found with a lookup).
// See docs/resources/sr.md.
//
// Deleting an Sr forgets it (unplugs it, keeps the data) unless destroyOnDelete
// is true, which erases it.
import * as pulumi from "@pulumi/pulumi";
import * as xen from "pulumi-xenserver";

export = async () => {
  const config = new pulumi.Config("example");
  const nfsServer = config.get("nfsServer") ?? "192.0.2.10";
  const smbShare = config.get("smbShare") ?? "//192.0.2.20/vm-store";
  // `pulumi config set --secret example:smbPassword …`; the fallback is for the simulator.
  const smbPassword = config.getSecret("smbPassword") ?? pulumi.secret("example-only");

  const nfs = new xen.Sr("vm-store", {
    type: "nfs",
    name: "example-vm-store",
    description: "shared VM disks",
    deviceConfig: { server: nfsServer, serverpath: "/exports/vm-store", nfsversion: "4.1" },
    otherConfig: { "example:owner": "storage-team" },
    tags: ["example"],
  });

  // The password becomes a XAPI secret object (deviceConfig gets password_secret);
  // deviceConfig is kept encrypted in the Pulumi state.
  const smb = new xen.Sr("smb-store", {
    type: "smb",
    name: "example-smb-store",
    deviceConfig: smbPassword.apply((password) => ({ server: smbShare, username: "xen", password })),
  });

  const isos = new xen.Sr("iso-store", {
    type: "iso",
    name: "example-isos",
    deviceConfig: { location: `${nfsServer}:/exports/isos`, type: "nfs_iso" },
  });

  // A local SR lives on one host: pick it with a lookup (by name, hostname or uuid).
  const host = await xen.getHost({ name: "sim-host-2" });
  const scratch = new xen.Sr("scratch", {
    type: "ext",
    name: "example-scratch",
    description: "throwaway space on the second disk of sim-host-2",
    host: host.uuid,
    deviceConfig: { device: "/dev/sdb" },
    destroyOnDelete: true,
  });

  return {
    vmStore: { uuid: nfs.uuid, pbds: nfs.pbds, physicalSize: nfs.physicalSize },
    smbStore: { uuid: smb.uuid, pbds: smb.pbds },
    isoStore: isos.uuid,
    scratch: { uuid: scratch.uuid, host: host.name, pbds: scratch.pbds },
  };
};
