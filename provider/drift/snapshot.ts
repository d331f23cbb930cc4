// The live side: every record of the watched classes of one pool, kept current by the XAPI client's watch loop
// (event.inject, get_all_records, event.from; full resync on EVENTS_LOST / SESSION_INVALID). It answers the
// resource modules' observe() as read() would through XAPI calls.
import type { LiveRecords } from "../resources/common/live";
import type { WatchEvent } from "../xapi/events";

type Rec = Record<string, unknown>;

/** What a comparison read, as keys a change can be matched against: one object by ref or UUID, or a whole class. */
export const readKeys = {
  ref: (cls: string, ref: string) => `${cls.toLowerCase()} ${ref}`,
  uuid: (cls: string, uuid: string) => `${cls.toLowerCase()} #${uuid}`,
  all: (cls: string) => `${cls.toLowerCase()} *`,
};

/** The snapshot as one resource's comparison sees it, noting what it reads (so a change re-compares only its readers). */
export class TrackedReads implements LiveRecords {
  readonly keys = new Set<string>();

  constructor(private readonly live: LiveRecords) {}

  get<R>(cls: string, ref: string): Promise<R | undefined> {
    this.keys.add(readKeys.ref(cls, ref));
    return this.live.get<R>(cls, ref);
  }

  uuidOf(cls: string, ref: string): Promise<string | undefined> {
    this.keys.add(readKeys.ref(cls, ref));
    return this.live.uuidOf(cls, ref);
  }

  async byUuid<R>(cls: string, uuid: string): Promise<{ ref: string; record: R } | undefined> {
    this.keys.add(readKeys.uuid(cls, uuid));
    const found = await this.live.byUuid<R>(cls, uuid);
    if (found) this.keys.add(readKeys.ref(cls, found.ref));
    return found;
  }

  all<R>(cls: string): Promise<Array<[string, R]>> {
    this.keys.add(readKeys.all(cls));
    return this.live.all<R>(cls);
  }

  hostNames(): Promise<Array<[string, string]>> {
    this.keys.add(readKeys.all("host"));
    return this.live.hostNames();
  }
}

export class Snapshot implements LiveRecords {
  private readonly tables = new Map<string, Map<string, Rec>>();
  private readonly uuids = new Map<string, Map<string, string>>();

  /**
   * Applies one event of the watch loop; returns whether it changed the snapshot. `touched` receives the read keys
   * (readKeys) the change can affect: the object by ref and by UUID, and its class as a whole.
   */
  apply(ev: WatchEvent, touched?: Set<string>): boolean {
    if (ev.kind === "synced") return false;
    const cls = ev.class.toLowerCase();
    const table = this.table(cls);
    const index = this.index(cls);
    const old = table.get(ev.ref);
    const touch = (r: Rec | undefined) => {
      if (!touched) return;
      touched.add(readKeys.ref(cls, ev.ref)).add(readKeys.all(cls));
      if (typeof r?.uuid === "string") touched.add(readKeys.uuid(cls, r.uuid));
    };
    if (ev.kind === "del") {
      if (!old) return false;
      table.delete(ev.ref);
      if (typeof old.uuid === "string") index.delete(old.uuid);
      touch(old);
      return true;
    }
    const rec = ev.record as Rec;
    table.set(ev.ref, rec);
    if (typeof rec.uuid === "string") index.set(rec.uuid, ev.ref);
    touch(old);
    touch(rec);
    return true;
  }

  /** Every class's records, counted (for progress and metrics). */
  get size(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.size;
    return n;
  }

  /** The class and ref of the object with this UUID, in any watched class. */
  findUuid(uuid: string): { cls: string; ref: string } | undefined {
    for (const [cls, index] of this.uuids) {
      const ref = index.get(uuid);
      if (ref) return { cls, ref };
    }
    return undefined;
  }

  async get<R>(cls: string, ref: string): Promise<R | undefined> {
    return this.table(cls.toLowerCase()).get(ref) as R | undefined;
  }

  async uuidOf(cls: string, ref: string): Promise<string | undefined> {
    return this.table(cls.toLowerCase()).get(ref)?.uuid as string | undefined;
  }

  async byUuid<R>(cls: string, uuid: string): Promise<{ ref: string; record: R } | undefined> {
    const ref = this.index(cls.toLowerCase()).get(uuid);
    const record = ref ? this.table(cls.toLowerCase()).get(ref) : undefined;
    return ref && record ? { ref, record: record as R } : undefined;
  }

  async all<R>(cls: string): Promise<Array<[string, R]>> {
    return [...this.table(cls.toLowerCase())] as Array<[string, R]>;
  }

  async hostNames(): Promise<Array<[string, string]>> {
    return [...this.table("host")].map(([ref, h]) => [ref, h.name_label as string]);
  }

  /** Synchronous view of one class, for the unmanaged-object scan. */
  records(cls: string): Map<string, Rec> {
    return this.table(cls.toLowerCase());
  }

  private table(cls: string): Map<string, Rec> {
    let t = this.tables.get(cls);
    if (!t) this.tables.set(cls, (t = new Map()));
    return t;
  }

  private index(cls: string): Map<string, string> {
    let t = this.uuids.get(cls);
    if (!t) this.uuids.set(cls, (t = new Map()));
    return t;
  }
}
