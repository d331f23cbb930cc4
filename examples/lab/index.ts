// The example lab: a small, reproducible XenServer lab as code.
// - the pool, with a tag and other_config owned by this program
// - a private network for VM-to-VM traffic, a storage VLAN on eth1 of every host,
//   and a bond of eth2+eth3 for guest traffic
// - a shared NFS SR for VM disks (forgotten, not destroyed, when the stack goes away)
// - a data disk on that SR, and the SR made the pool's default
// - two Debian VMs on that SR: a grown system disk plus a data disk of their own (a Vdi resource, which
//   outlives the VM), a NIC on the internal network and one on the guest bond, cloud-init setting the
//   hostname, and the address the guest agent reports (waitForIp)
//
// Run it against the embedded simulator with `npm run demo`, or against a real
// pool with `pulumi up` after `pulumi config set xenserver:url …` (see README.md).
import * as pulumi from "@pulumi/pulumi";
import * as xen from "pulumi-xenserver";

export = async () => {
  const config = new pulumi.Config("lab");
  const nfsServer = config.get("nfsServer") ?? "192.0.2.10";
  const nfsPath = config.get("nfsPath") ?? "/exports/lab";

  const internal = new xen.Network("internal", {
    name: "lab-internal",
    description: "VM-to-VM traffic, no uplink",
    mtu: 9000,
  });
  const storageVlan = new xen.Network("storage-vlan", { name: "lab-storage", vlan: 30, nic: "eth1", mtu: 9000 });
  const guests = new xen.Network("guests", {
    name: "lab-guests",
    bond: { nics: ["eth2", "eth3"], mode: "active-backup" },
  });

  const vmStore = new xen.Sr("vm-store", {
    type: "nfs",
    name: "lab-vm-store",
    description: "shared VM disks",
    deviceConfig: { server: nfsServer, serverpath: nfsPath, nfsversion: "4.1" },
    tags: ["lab"],
  });

  const pool = new xen.Pool("pool", {
    defaultSr: vmStore.uuid,
    tags: ["lab"],
    otherConfig: { "lab:owner": "infra-team" },
  });

  const scratch = new xen.Vdi("scratch", { sr: vmStore.uuid, name: "lab-scratch", size: "20GiB", tags: ["lab"] });

  const vms = ["lab-web-1", "lab-web-2"].map((name) => {
    const data = new xen.Vdi(`${name}-data`, { sr: vmStore.uuid, name: `${name}-data`, size: "8GiB", tags: ["lab"] });
    return new xen.Vm(
      name,
      {
        name,
        template: "Debian Bookworm 12",
        sr: vmStore.uuid,
        vcpus: 2,
        vcpusMax: 4,
        memory: "2GiB",
        disks: [{ size: "16GiB" }, { vdi: data.uuid }],
        networkInterfaces: [{ network: internal.uuid }, { network: guests.uuid }],
        cloudInit: {
          userData: "#cloud-config\npackage_update: true\n",
          metaData: `instance-id: ${name}\nlocal-hostname: ${name}\n`,
        },
        waitForIp: { timeout: 300 },
        tags: ["lab"],
      },
      { dependsOn: [pool] }, // the pool's default SR is set first
    );
  });

  return {
    pool: pool.uuid,
    hosts: pool.hosts,
    networks: {
      internal: internal.uuid,
      storageVlan: storageVlan.uuid,
      storageVlanPifs: storageVlan.pifs,
      guests: guests.uuid,
    },
    vmStore: { uuid: vmStore.uuid, pbds: vmStore.pbds },
    scratch: { uuid: scratch.uuid, virtualSize: scratch.virtualSize },
    vms: {
      "lab-web-1": { host: vms[0].residentOnName, powerState: vms[0].powerState, ipAddresses: vms[0].ipAddresses },
      "lab-web-2": { host: vms[1].residentOnName, powerState: vms[1].powerState, ipAddresses: vms[1].ipAddresses },
    },
  };
};
