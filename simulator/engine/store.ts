/** The object database: one table per class, uuid index, back-references, and a change log for events. */
import { randomUUID } from "crypto";
import { classes, getClass, zeroValue } from "./datamodel";
import { fail } from "./errors";
import { relationsByChild, relationsByParent } from "./relations";

export type Row = Record<string, unknown>;

interface Meta {
  cls: string;
  created: number;
  modified: number;
}

interface Tombstone {
  cls: string;
  created: number;
  deleted: number;
}

export interface Change {
  gen: number;
  cls: string;
  ref: string;
}

/** Classes xapi does not persist (`PersistNothing`) and that produce no events. */
export const NOT_PERSISTED = new Set(["session", "task"]);
export const NO_EVENTS = new Set(["session", "event", "user"]);

const MAX_TOMBSTONES = 10_000;

export function newRef(): string {
  return `OpaqueRef:${randomUUID()}`;
}

export class Store {
  readonly tables = new Map<string, Map<string, Row>>();
  private readonly meta = new Map<string, Meta>();
  private readonly uuids = new Map<string, { cls: string; ref: string }>();
  private readonly tombstones = new Map<string, Tombstone>();
  private log: Change[] = [];
  /** The DB generation: bumped by every change (event tokens carry it). */
  generation = 0;
  private listeners = new Set<() => void>();
  private notifyScheduled = false;

  constructor() {
    for (const name of classes.keys()) this.tables.set(name, new Map());
  }

  table(cls: string): Map<string, Row> {
    const t = this.tables.get(cls);
    if (!t) throw new Error(`no table ${cls}`);
    return t;
  }

  /** Creates a row: datamodel defaults, then zero values, then `fields`. */
  create(cls: string, fields: Row, ref = newRef()): string {
    const def = getClass(cls);
    const row: Row = {};
    for (const f of def.fieldList)
      row[f.name] = f.default !== undefined ? structuredCloneValue(f.default) : zeroValue(f.type);
    if (def.fields.has("uuid")) row.uuid = randomUUID();
    Object.assign(row, fields);
    // Back-reference sets are owned by the DB, not by the creator.
    for (const rel of relationsByParent.get(cls) ?? []) if (def.fields.has(rel.parentSet)) row[rel.parentSet] = [];
    const gen = ++this.generation;
    this.table(cls).set(ref, row);
    this.meta.set(ref, { cls, created: gen, modified: gen });
    if (typeof row.uuid === "string") this.uuids.set(row.uuid, { cls, ref });
    this.record(gen, cls, ref);
    for (const rel of relationsByChild.get(cls) ?? [])
      this.link(rel.parentCls, rel.parentSet, row[rel.childField], ref);
    return ref;
  }

  /** Restores a row as persisted (no defaults, keeps generations). */
  restore(cls: string, ref: string, row: Row, created: number, modified: number): void {
    this.table(cls).set(ref, row);
    this.meta.set(ref, { cls, created, modified });
    if (typeof row.uuid === "string") this.uuids.set(row.uuid, { cls, ref });
    this.log.push({ gen: modified, cls, ref });
  }

  sortLog(): void {
    this.log.sort((a, b) => a.gen - b.gen);
  }

  has(cls: string, ref: unknown): boolean {
    return typeof ref === "string" && this.table(cls).has(ref);
  }

  /** The row, or HANDLE_INVALID [Class, ref]. */
  get(cls: string, ref: unknown): Row {
    const row = typeof ref === "string" ? this.table(cls).get(ref) : undefined;
    if (!row) return fail("HANDLE_INVALID", cls, String(ref));
    return row;
  }

  tryGet(cls: string, ref: unknown): Row | undefined {
    return typeof ref === "string" ? this.table(cls).get(ref) : undefined;
  }

  byUuid(cls: string, uuid: string): string {
    const hit = this.uuids.get(uuid);
    if (!hit || hit.cls !== cls) return fail("UUID_INVALID", cls, uuid);
    return hit.ref;
  }

  meta0(ref: string): Meta | undefined {
    return this.meta.get(ref);
  }

  /** Sets one field, keeping back-references in step, and records a `mod`. */
  set(cls: string, ref: string, field: string, value: unknown): void {
    this.update(cls, ref, { [field]: value });
  }

  update(cls: string, ref: string, patch: Row): void {
    const row = this.get(cls, ref);
    const rels = relationsByChild.get(cls);
    for (const [field, value] of Object.entries(patch)) {
      const old = row[field];
      row[field] = value;
      if (rels) {
        for (const rel of rels) {
          if (rel.childField === field && old !== value) {
            this.unlink(rel.parentCls, rel.parentSet, old, ref);
            this.link(rel.parentCls, rel.parentSet, value, ref);
          }
        }
      }
    }
    this.touch(cls, ref);
  }

  /** Records a `mod` without changing anything (event.inject, related-object events). */
  touch(cls: string, ref: string): void {
    const m = this.meta.get(ref);
    if (!m) return;
    const gen = ++this.generation;
    m.modified = gen;
    this.record(gen, cls, ref);
  }

  destroy(cls: string, ref: string): void {
    const row = this.get(cls, ref);
    for (const rel of relationsByChild.get(cls) ?? [])
      this.unlink(rel.parentCls, rel.parentSet, row[rel.childField], ref);
    this.table(cls).delete(ref);
    const m = this.meta.get(ref);
    this.meta.delete(ref);
    if (typeof row.uuid === "string") this.uuids.delete(row.uuid);
    const gen = ++this.generation;
    this.tombstones.set(ref, { cls, created: m?.created ?? 0, deleted: gen });
    this.record(gen, cls, ref);
  }

  private link(parentCls: string, parentSet: string, parentRef: unknown, childRef: string): void {
    const parent = this.tryGet(parentCls, parentRef);
    if (!parent || !Array.isArray(parent[parentSet])) return;
    // In place: copying would make filling a 10,000-member set quadratic. Unlink copies, so loops over a set stay safe.
    (parent[parentSet] as string[]).push(childRef);
    this.touch(parentCls, parentRef as string);
  }

  private unlink(parentCls: string, parentSet: string, parentRef: unknown, childRef: string): void {
    const parent = this.tryGet(parentCls, parentRef);
    if (!parent || !Array.isArray(parent[parentSet])) return;
    parent[parentSet] = (parent[parentSet] as string[]).filter((r) => r !== childRef);
    this.touch(parentCls, parentRef as string);
  }

  private record(gen: number, cls: string, ref: string): void {
    if (NO_EVENTS.has(cls)) return;
    this.log.push({ gen, cls, ref });
    if (this.log.length > 20000 && this.log.length > 4 * this.meta.size) this.compact();
    if (!this.notifyScheduled && this.listeners.size > 0) {
      this.notifyScheduled = true;
      queueMicrotask(() => {
        this.notifyScheduled = false;
        for (const l of [...this.listeners]) l();
      });
    }
  }

  /**
   * Keeps only the latest change per object (any token still sees every object changed after it) and the
   * newest 10,000 deletions: like xapi, which trims its list of deleted rows, a very old token misses older
   * deletions, which is what valid_ref_counts lets clients detect.
   */
  private compact(): void {
    const last = new Map<string, Change>();
    for (const c of this.log) last.set(c.ref, c);
    for (const [ref, t] of this.tombstones)
      if (!last.has(ref) || last.get(ref)!.gen !== t.deleted) this.tombstones.delete(ref);
    const excess = this.tombstones.size - MAX_TOMBSTONES;
    if (excess > 0) {
      const oldest = [...this.tombstones].sort((a, b) => a[1].deleted - b[1].deleted).slice(0, excess);
      for (const [ref] of oldest) {
        this.tombstones.delete(ref);
        last.delete(ref);
      }
    }
    this.log = [...last.values()].sort((a, b) => a.gen - b.gen);
  }

  /** Changes after `since`, one per object (the latest), each tagged add / mod / del as event.from reports them. */
  changesSince(
    since: number,
    wanted: (cls: string, ref: string) => boolean,
  ): { op: "add" | "mod" | "del"; cls: string; ref: string; gen: number }[] {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.log[mid].gen <= since) lo = mid + 1;
      else hi = mid;
    }
    const seen = new Map<string, Change>();
    for (let i = lo; i < this.log.length; i++) {
      const c = this.log[i];
      if (wanted(c.cls, c.ref)) seen.set(c.ref, c);
    }
    const out: { op: "add" | "mod" | "del"; cls: string; ref: string; gen: number }[] = [];
    for (const c of seen.values()) {
      const m = this.meta.get(c.ref);
      if (m) out.push({ op: m.created > since ? "add" : "mod", cls: m.cls, ref: c.ref, gen: m.modified });
      else {
        const t = this.tombstones.get(c.ref);
        if (t && t.created <= since) out.push({ op: "del", cls: t.cls, ref: c.ref, gen: t.deleted });
      }
    }
    return out;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [cls, t] of this.tables) if (cls !== "event") out[cls.toLowerCase()] = t.size;
    return out;
  }

  /** A snapshot for persistence: every persisted table with row generations. */
  dump(): { generation: number; rows: [string, string, number, number, Row][] } {
    const rows: [string, string, number, number, Row][] = [];
    for (const [cls, t] of this.tables) {
      if (NOT_PERSISTED.has(cls)) continue;
      for (const [ref, row] of t) {
        const m = this.meta.get(ref)!;
        rows.push([cls, ref, m.created, m.modified, row]);
      }
    }
    return { generation: this.generation, rows };
  }
}

export function structuredCloneValue<T>(v: T): T {
  if (Array.isArray(v)) return [...v] as T;
  if (v && typeof v === "object") return { ...(v as object) } as T;
  return v;
}
