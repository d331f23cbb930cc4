// The Network resource in its three shapes, plus adoption of an existing network:
// - a private network (no NIC): VM-to-VM traffic inside the pool
// - a VLAN network: tag 40 on eth1 of every host
// - a bond network: eth2 + eth3 of every host bonded with LACP
// - the management network (found with lookups), adopted to own a tag on it
// See docs/resources/network.md.
import * as xen from "pulumi-xenserver";

export = async () => {
  const internal = new xen.Network("internal", {
    name: "example-internal",
    description: "VM-to-VM traffic, no uplink",
    mtu: 9000,
    tags: ["example"],
  });

  const storage = new xen.Network("storage-vlan", {
    name: "example-storage",
    description: "storage traffic, VLAN 40",
    vlan: 40,
    nic: "eth1", // "NIC 1", XenCenter's name, means the same NIC
    mtu: 9000,
  });

  const guests = new xen.Network("guests", {
    name: "example-guests",
    bond: { nics: ["eth2", "eth3"], mode: "lacp" },
  });

  // Lookups run when the program runs: the master's management NIC and its network.
  const mgmtPif = await xen.getPif({ device: "eth0" });
  const mgmt = await xen.getNetwork({ uuid: mgmtPif.networkUuid });

  // Adoption takes the existing network over. Repeat its name and MTU so nothing
  // changes but the owned tag; retainOnDelete keeps it when the stack is destroyed
  // (without it, deleting the resource would destroy the adopted network).
  const management = new xen.Network(
    "management",
    { adopt: mgmt.uuid, name: mgmt.name, mtu: mgmt.mtu, description: "management (eth0)", tags: ["management"] },
    { retainOnDelete: true },
  );

  return {
    internal: { uuid: internal.uuid, bridge: internal.bridge },
    storage: { uuid: storage.uuid, pifs: storage.pifs },
    guests: { uuid: guests.uuid, pifs: guests.pifs },
    management: { uuid: management.uuid, bridge: management.bridge, managementPif: mgmtPif.uuid },
  };
};
