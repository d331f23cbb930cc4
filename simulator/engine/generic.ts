/** Messages generated from the datamodel: getters, setters, map/set helpers, lookups, constructors, destructors. */
import { ClassDef, MessageDef } from "./datamodel";
import { XapiError, fail } from "./errors";
import { compileFilter, parseFilter } from "./filter";
import { Row } from "./store";
import { Handler, Xapi } from "./xapi";

function fieldOf(c: ClassDef, name: string) {
  return c.fields.get(name);
}

/** The generic implementation of `m`, or undefined when the message needs hand-written behaviour. */
export function genericHandler(c: ClassDef, m: MessageDef): Handler | undefined {
  const cls = c.name;
  const n = m.name;
  switch (n) {
    case "get_record":
      return (x, _ctx, [self]) => x.store.get(cls, self);
    case "get_by_uuid":
      return (x, _ctx, [uuid]) => x.store.byUuid(cls, uuid as string);
    case "get_by_name_label":
      return (x, _ctx, [label]) =>
        [...x.store.table(cls)].filter(([, r]) => r.name_label === label).map(([ref]) => ref);
    case "get_all":
      return (x) => [...x.store.table(cls).keys()];
    case "get_all_records":
      return (x) => Object.fromEntries(x.store.table(cls));
    case "get_all_where":
    case "get_all_records_where":
      return (x, _ctx, [expr]) => {
        const test = compileFilter(parseFilter(expr as string), c);
        const hits: [string, Row][] = [];
        for (const [ref, row] of x.store.table(cls)) if (test(row)) hits.push([ref, row]);
        return n === "get_all_where" ? hits.map(([r]) => r) : Object.fromEntries(hits);
      };
    case "destroy":
      return m.implicit
        ? (x, _ctx, [self]) => (x.store.get(cls, self), x.store.destroy(cls, self as string))
        : undefined;
    case "create":
      return m.implicit ? (x, _ctx, [rec]) => x.store.create(cls, rec as Row) : undefined;
  }
  if (n.startsWith("get_") && fieldOf(c, n.slice(4))) {
    const f = n.slice(4);
    return (x, _ctx, [self]) => x.store.get(cls, self)[f];
  }
  if (n.startsWith("set_") && fieldOf(c, n.slice(4))) {
    const f = n.slice(4);
    return (x, _ctx, [self, value]) => {
      x.store.get(cls, self);
      x.store.set(cls, self as string, f, value);
    };
  }
  if (n.startsWith("add_to_") && fieldOf(c, n.slice(7))?.type.kind === "map") {
    const f = n.slice(7);
    return (x, _ctx, [self, key, value]) => addToMap(x, cls, self as string, f, key as string, value);
  }
  if (n.startsWith("remove_from_") && fieldOf(c, n.slice(12))?.type.kind === "map") {
    const f = n.slice(12);
    return (x, _ctx, [self, key]) => {
      const map = x.store.get(cls, self)[f] as Record<string, unknown>;
      if (!((key as string) in map)) return;
      const next = { ...map };
      delete next[key as string];
      x.store.set(cls, self as string, f, next);
    };
  }
  if (n.startsWith("add_") && fieldOf(c, n.slice(4))?.type.kind === "set") {
    const f = n.slice(4);
    return (x, _ctx, [self, value]) => {
      const set = x.store.get(cls, self)[f] as unknown[];
      if (!set.includes(value)) x.store.set(cls, self as string, f, [...set, value]);
    };
  }
  if (n.startsWith("remove_") && fieldOf(c, n.slice(7))?.type.kind === "set") {
    const f = n.slice(7);
    return (x, _ctx, [self, value]) => {
      const set = x.store.get(cls, self)[f] as unknown[];
      if (set.includes(value))
        x.store.set(
          cls,
          self as string,
          f,
          set.filter((v) => v !== value),
        );
    };
  }
  return undefined;
}

/** add_to_<map>: MAP_DUPLICATE_KEY [Class, field, ref, key] when the key exists, even with the same value. */
export function addToMap(x: Xapi, cls: string, self: string, field: string, key: string, value: unknown): void {
  const map = x.store.get(cls, self)[field] as Record<string, unknown>;
  if (key === "") throw new XapiError("INTERNAL_ERROR", ["Db_exn.Empty_key_in_map"]);
  if (key in map) fail("MAP_DUPLICATE_KEY", cls, field, self, key);
  x.store.set(cls, self, field, { ...map, [key]: value });
}
