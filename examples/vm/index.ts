// The Vm resource: a Debian VM cloned from its template with the template's disk grown, a new scratch disk, a
// standalone data disk (a Vdi resource, which outlives the VM), a NIC on eth0's network, cloud-init setting the
// hostname, and the address the guest agent reports. See docs/resources/vm.md.
//
// Later changes are said at preview: vcpus up to vcpusMax apply live; memory needs a restart (updatePolicy
// "restart" does it, "fail" refuses); a new template replaces the VM.
import * as xen from "pulumi-xenserver";

export = async () => {
  const pool = await xen.getPool();
  if (!pool.defaultSrUuid) throw new Error("this pool has no default SR; set one (see examples/pool)");
  const lan = await xen.getNetwork({ name: "Pool-wide network associated with eth0" });

  const data = new xen.Vdi("data", { sr: pool.defaultSrUuid, name: "example-vm-data", size: "4GiB" });

  const vm = new xen.Vm("example-vm", {
    name: "example-vm",
    template: "Debian Bookworm 12",
    vcpus: 2,
    vcpusMax: 4,
    memory: "2GiB",
    disks: [{ size: "16GiB" }, { size: "1GiB", name: "example-vm-scratch" }, { vdi: data.uuid }],
    networkInterfaces: [{ network: lan.uuid }],
    cloudInit: {
      userData: "#cloud-config\npackage_update: true\n",
      metaData: "instance-id: example-vm\nlocal-hostname: example-vm\n",
    },
    waitForIp: { timeout: 120 },
    tags: ["example"],
  });

  return {
    uuid: vm.uuid,
    host: vm.residentOnName,
    powerState: vm.powerState,
    ipAddresses: vm.ipAddresses,
    disks: vm.disks,
  };
};
