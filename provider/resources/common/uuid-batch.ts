// Reading objects by UUID for read(): one lookup alone is `<cls>.get_by_uuid` (xapi's UUID index) and `get_record`;
// lookups of one class that wait together, as the engine's parallel reads of a refresh do, share one
// `<cls>.get_all_records_where 'field "uuid" = "…" or …'`. xapi walks the class's table once for that call
// (db_cache_impl.ml find_refs_with_filter_internal) and answers only the matches: one call for up to `batchMax`
// objects instead of two each. Every answer is read live when asked for, as before; nothing is kept.
import type { Xapi } from "./connection";
import { recordByUuid } from "./lookups";

export type Found<R> = { ref: string; record: R } | undefined;

interface Waiting {
  uuid: string;
  resolve(found: Found<unknown>): void;
  reject(err: unknown): void;
}

/** The most UUIDs in one query: its expression stays a few kilobytes. */
export const batchMax = 64;

// A UUID as xapi writes them. Anything else is looked up alone, so that get_by_uuid says what it says now.
const uuidShape = /^[0-9a-fA-F-]{1,64}$/;

class UuidLookups {
  private readonly waiting: Waiting[] = [];
  private running = false;

  constructor(
    private readonly xapi: Xapi,
    private readonly cls: string,
  ) {}

  find(uuid: string): Promise<Found<unknown>> {
    if (!uuidShape.test(uuid)) return recordByUuid(this.xapi, this.cls, uuid);
    return new Promise((resolve, reject) => {
      this.waiting.push({ uuid, resolve, reject });
      // Lookups asked in the same turn join this one; those asked while it runs make the next.
      if (!this.running) {
        this.running = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length) {
      const batch = this.waiting.splice(0, batchMax);
      try {
        const found = await this.lookUp([...new Set(batch.map((w) => w.uuid))]);
        for (const w of batch) w.resolve(found.get(w.uuid));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.running = false;
  }

  private async lookUp(uuids: string[]): Promise<Map<string, Found<unknown>>> {
    if (uuids.length === 1) return new Map([[uuids[0], await recordByUuid(this.xapi, this.cls, uuids[0])]]);
    const where = uuids.map((u) => `field "uuid" = "${u}"`).join(" or ");
    const records = await this.xapi.call<Record<string, { uuid: string }>>(`${this.cls}.get_all_records_where`, where);
    const out = new Map<string, Found<unknown>>();
    for (const [ref, record] of Object.entries(records)) out.set(record.uuid, { ref, record });
    return out;
  }
}

const lookups = new WeakMap<Xapi, Map<string, UuidLookups>>();

/** The object of class `cls` with this UUID, live; undefined when there is none. */
export function findByUuid<R>(xapi: Xapi, cls: string, uuid: string): Promise<Found<R>> {
  let byClass = lookups.get(xapi);
  if (!byClass) lookups.set(xapi, (byClass = new Map()));
  let l = byClass.get(cls);
  if (!l) byClass.set(cls, (l = new UuidLookups(xapi, cls)));
  return l.find(uuid) as Promise<Found<R>>;
}
