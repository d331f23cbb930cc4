// How a resource kind reads its managed attributes from live XAPI records and compares them: one piece of code
// that read() and diff() use, and that xen-drift runs over its event-stream snapshot, so that a refresh, a
// preview and a drift report never disagree.
import type { Xapi } from "./connection";
import { fixedFieldOf, hostNames, recordOf } from "./lookups";
import { findByUuid } from "./uuid-batch";
import { sameMap, sameSet, type StringMap } from "./owned-map";

/** Live records, read either through XAPI calls (read()) or from an event-fed snapshot (xen-drift). */
export interface LiveRecords {
  get<R>(cls: string, ref: string): Promise<R | undefined>;
  /** The UUID of the object `ref` names (undefined when it is gone): cheaper than get() for a large record. */
  uuidOf(cls: string, ref: string): Promise<string | undefined>;
  byUuid<R>(cls: string, uuid: string): Promise<{ ref: string; record: R } | undefined>;
  all<R>(cls: string): Promise<Array<[string, R]>>;
  /** Every host, [ref, name_label]: host records list every PIF and resident VM, which grow with the pool. */
  hostNames(): Promise<Array<[string, string]>>;
}

/** One attribute that differs: its path (`mtu`, `otherConfig["owner"]`), the expected and the live value. */
export interface AttributeChange {
  path: string;
  expected: unknown;
  actual: unknown;
}

/**
 * How an attribute is compared. scalar: `!==`; json: by JSON text; map: the keys of either side, one change per
 * key; set: as sets (order ignored). These are the rules diff() always used.
 */
type AttributeKind = "scalar" | "json" | "map" | "set";

export type AttributeSpec = readonly (readonly [key: string, kind: AttributeKind])[];

/** The attributes of `n` that differ from `o`, by the rules of `spec`. */
export function changedAttributes(spec: AttributeSpec, o: object, n: object): AttributeChange[] {
  const a = o as Record<string, unknown>;
  const b = n as Record<string, unknown>;
  const out: AttributeChange[] = [];
  for (const [key, kind] of spec) {
    const x = a[key];
    const y = b[key];
    switch (kind) {
      case "scalar":
        if (x !== y) out.push({ path: key, expected: x, actual: y });
        break;
      case "json":
        if (JSON.stringify(x ?? null) !== JSON.stringify(y ?? null)) out.push({ path: key, expected: x, actual: y });
        break;
      case "set":
        if (!sameSet(x as string[] | undefined, y as string[] | undefined))
          out.push({ path: key, expected: x ?? [], actual: y ?? [] });
        break;
      case "map": {
        const mx = (x ?? {}) as StringMap;
        const my = (y ?? {}) as StringMap;
        if (sameMap(mx, my)) break;
        for (const k of [...new Set([...Object.keys(mx), ...Object.keys(my)])].sort())
          if (mx[k] !== my[k]) out.push({ path: `${key}[${JSON.stringify(k)}]`, expected: mx[k], actual: my[k] });
        break;
      }
    }
  }
  return out;
}

/**
 * What a resource kind's module exposes for drift: the XAPI classes its comparison reads, the class of its own
 * object, and observe(), which reads the managed attributes from live records the way read() reports them.
 * compare() is the in-place part of the kind's diff: state inputs against live inputs.
 */
export interface LiveComparison<O, I = Record<string, unknown>> {
  /** The class of the resource's own object ("network", "SR"…), as `<cls>.get_by_uuid` spells it. */
  cls: string;
  /** Every class observe() reads (the watcher subscribes to these). */
  classes: string[];
  /**
   * The live counterpart of the state's inputs (only the attributes the program owns) and the hosts that lack
   * their part of the object; undefined when the object no longer exists. `all` (a get()): every live field.
   */
  observe(id: string, o: O, live: LiveRecords, all?: boolean): Promise<Observed<I> | undefined>;
  /** The owned attributes of `live` that differ from `o` (the same rules as diff's in-place changes). */
  compare(o: O, live: object): AttributeChange[];
}

interface Observed<I = Record<string, unknown>> {
  ref: string;
  inputs: Partial<I>;
  /** Names of the hosts lacking their part of the object (a VLAN PIF, a plugged PBD): [] when whole. */
  missingOn?: string[];
}

/** LiveRecords through XAPI calls, cached for the length of one operation. */
export function xapiRecords(xapi: Xapi): LiveRecords {
  const records = new Map<string, Promise<unknown>>();
  const tables = new Map<string, Promise<Array<[string, unknown]>>>();
  let names: Promise<Array<[string, string]>> | undefined;
  const once = <T>(m: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> => {
    let p = m.get(key);
    if (!p) m.set(key, (p = load()));
    return p;
  };
  const get = <R>(cls: string, ref: string): Promise<R | undefined> =>
    once(records, `${cls}/${ref}`, () => recordOf<R>(xapi, cls, ref)) as Promise<R | undefined>;
  return {
    get,
    async uuidOf(cls: string, ref: string) {
      const known = records.get(`${cls}/${ref}`);
      if (known) return ((await known) as { uuid?: string } | undefined)?.uuid;
      // A UUID is set when xapi makes the object (read once per session). The SR of every VDI in a refresh: its
      // record lists all the SR's VDIs (~50 bytes each).
      return fixedFieldOf<string>(xapi, cls, "uuid", ref);
    },
    async byUuid<R>(cls: string, uuid: string) {
      // Concurrent reads of one class (a refresh) share one query (uuid-batch.ts).
      const found = await findByUuid<R>(xapi, cls, uuid);
      if (found) records.set(`${cls}/${found.ref}`, Promise.resolve(found.record));
      return found;
    },
    all: <R>(cls: string) =>
      once(tables, cls, async () =>
        Object.entries(await xapi.call<Record<string, unknown>>(`${cls}.get_all_records`)),
      ) as Promise<Array<[string, R]>>,
    hostNames: () => (names ??= hostNames(xapi)),
  };
}

/** The names of `hosts` for which `has(hostRef)` is false, sorted. */
export async function hostsLacking(live: LiveRecords, has: (hostRef: string) => boolean): Promise<string[]> {
  const hosts = await live.hostNames();
  return hosts
    .filter(([ref]) => !has(ref))
    .map(([, name]) => name)
    .sort();
}
