// How read(), diff() and xen-drift see a VM's managed attributes (common/live.ts): observe() reads the VM and its
// devices from live records into the inputs a refresh reports (live.ts liveInputs), and compare() lists what
// classify() — the plan diff() makes — would change, with the expected and the live value of each.
import type { Prior } from "../contract";
import type { AttributeChange, LiveComparison, LiveRecords } from "../common/live";
import type { Xapi } from "../common/connection";
import { classify } from "./classify";
import type { Inputs, Outputs } from "./inputs";
import { liveInputs, uuidOfRef, type Live } from "./live";
import type { VBDRecord, VDIRecord, VIFRecord, VMRecord } from "./records";

/** The VM with this UUID and its VBDs, VIFs and their VDIs, from live records; undefined when there is none. */
export async function liveFromRecords(records: LiveRecords, uuid: string): Promise<Live | undefined> {
  const found = await records.byUuid<VMRecord>("VM", uuid);
  if (!found || found.record.is_a_template) return undefined;
  const vm = found.record;
  const vbds: Record<string, VBDRecord> = {};
  const vifs: Record<string, VIFRecord> = {};
  const vdis: Record<string, VDIRecord> = {};
  for (const ref of vm.VBDs) {
    const b = await records.get<VBDRecord>("VBD", ref);
    if (!b) continue;
    vbds[ref] = b;
    const vdi = b.empty ? undefined : await records.get<VDIRecord>("VDI", b.VDI);
    if (vdi) vdis[b.VDI] = vdi;
  }
  for (const ref of vm.VIFs) {
    const v = await records.get<VIFRecord>("VIF", ref);
    if (v) vifs[ref] = v;
  }
  return { ref: found.ref, vm, vbds, vifs, vdis, networks: {} };
}

/**
 * Live records for read(): the VM and its devices as readLive() read them (a handful of calls), hosts and networks
 * from the per-session directory (uuidOfRef), so that read() runs the same observe() as xen-drift.
 */
export function recordsOfLive(xapi: Xapi, live: Live): LiveRecords {
  const tables: Record<string, Record<string, unknown>> = {
    VM: { [live.ref]: live.vm },
    VBD: live.vbds,
    VIF: live.vifs,
    VDI: live.vdis,
  };
  const get = async <R>(cls: string, ref: string) => {
    if (cls === "host" || cls === "network") {
      const hit = await uuidOfRef(xapi, cls, ref);
      return (hit ? { uuid: hit.uuid, name_label: hit.name } : undefined) as R | undefined;
    }
    return tables[cls]?.[ref] as R | undefined;
  };
  return {
    get,
    uuidOf: async (cls, ref) => (await get<{ uuid?: string }>(cls, ref))?.uuid,
    async byUuid<R>(cls: string, uuid: string) {
      return cls === "VM" && live.vm.uuid === uuid ? { ref: live.ref, record: live.vm as R } : undefined;
    },
    async all() {
      throw new Error("recordsOfLive: all() is not needed by the Vm's observe()");
    },
    async hostNames() {
      throw new Error("recordsOfLive: hostNames() is not needed by the Vm's observe()");
    },
  };
}

/** The value at a classify() field path: "memory.dynamicMax", "disks[1].size", "disks[2] (added)". */
function valueAt(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const part of path.replace(/ \(.*\)$/, "").split(/\.|(?=\[)/)) {
    if (v === undefined || v === null) return undefined;
    const index = /^\[(\d+)\]$/.exec(part);
    v = index ? (v as unknown[])[Number(index[1])] : (v as Record<string, unknown>)[part];
  }
  return v;
}

export const comparison: LiveComparison<Prior<Outputs>, Inputs> = {
  cls: "VM",
  classes: ["VM", "VBD", "VIF", "VDI", "network", "host"],
  async observe(id, o, records, all = false) {
    const live = await liveFromRecords(records, id);
    if (!live) return undefined;
    const inputs = await liveInputs(records, live, o as Outputs, all);
    // The cloud-init text is never read back (its digest stands for it): the state's stands, as in read()'s outputs.
    return { ref: live.ref, inputs: { ...inputs, cloudInit: o.cloudInit ?? undefined } };
  },
  compare(o, n) {
    // What diff() would plan, less what only the state records (waitForIp, updatePolicy…): nothing to compare live.
    const changes = classify(o as Outputs, n as Inputs).filter((c) => c.kind !== "state");
    return changes.map((c): AttributeChange => ({
      path: c.field,
      expected: valueAt(o, c.field),
      actual: valueAt(n, c.field),
    }));
  },
};
