/** One-to-many links xapi's DB keeps in both directions: setting `child.field` updates `parent.set`. */
export interface Relation {
  childCls: string;
  childField: string;
  parentCls: string;
  parentSet: string;
}

const r = (childCls: string, childField: string, parentCls: string, parentSet: string): Relation => ({
  childCls,
  childField,
  parentCls,
  parentSet,
});

export const RELATIONS: Relation[] = [
  r("VBD", "VM", "VM", "VBDs"),
  r("VBD", "VDI", "VDI", "VBDs"),
  r("VIF", "VM", "VM", "VIFs"),
  r("VIF", "network", "network", "VIFs"),
  r("PIF", "network", "network", "PIFs"),
  r("PIF", "host", "host", "PIFs"),
  r("PBD", "SR", "SR", "PBDs"),
  r("PBD", "host", "host", "PBDs"),
  r("VDI", "SR", "SR", "VDIs"),
  r("VDI", "snapshot_of", "VDI", "snapshots"),
  r("VM", "resident_on", "host", "resident_VMs"),
  r("VM", "snapshot_of", "VM", "snapshots"),
  r("VM", "parent", "VM", "children"),
  r("VLAN", "tagged_PIF", "PIF", "VLAN_slave_of"),
  r("Bond", "master", "PIF", "bond_master_of"),
  r("PIF", "bond_slave_of", "Bond", "slaves"),
  r("host_cpu", "host", "host", "host_CPUs"),
  r("console", "VM", "VM", "consoles"),
  r("task", "subtask_of", "task", "subtasks"),
  r("crashdump", "VM", "VM", "crash_dumps"),
];

export const relationsByChild = new Map<string, Relation[]>();
export const relationsByParent = new Map<string, Relation[]>();
for (const rel of RELATIONS) {
  relationsByChild.set(rel.childCls, [...(relationsByChild.get(rel.childCls) ?? []), rel]);
  relationsByParent.set(rel.parentCls, [...(relationsByParent.get(rel.parentCls) ?? []), rel]);
}
