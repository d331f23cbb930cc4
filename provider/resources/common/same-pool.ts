// Which pool an object lives in. A connection that now reaches another pool than the one the object was made in
// (a URL pointed elsewhere by mistake, a DNS name moved) makes "not found" mean nothing: read() and delete() refuse
// rather than let a refresh drop the resource and the next up make it again in the wrong pool.
import type { Xapi } from "./connection";
import { recordByUuid } from "./lookups";
import { otherPoolMessage } from "./messages";

const poolCache = new WeakMap<Xapi, Promise<{ uuid: string; name: string }>>();

/** The pool a session reaches (read once per session: a pool's UUID never changes). */
export function poolOf(xapi: Xapi): Promise<{ uuid: string; name: string }> {
  let p = poolCache.get(xapi);
  if (!p) {
    p = (async () => {
      const [ref] = await xapi.call<string[]>("pool.get_all");
      const r = await xapi.call<{ uuid: string; name_label: string }>("pool.get_record", ref);
      return { uuid: r.uuid, name: r.name_label };
    })();
    poolCache.set(xapi, p);
    p.catch(() => poolCache.delete(xapi));
  }
  return p;
}

/**
 * The object is not found through the resource's connection: refuse when that connection reaches another pool
 * than the one the object was made in. State written before `poolUuid` existed has no pool to compare with.
 */
export async function assertSamePool(
  xapi: Xapi,
  kind: string,
  id: string,
  o: { poolUuid?: string | null; connection?: string | null },
): Promise<void> {
  if (!o.poolUuid) return;
  const here = await poolOf(xapi);
  if (here.uuid === o.poolUuid) return;
  throw new Error(`${kind} ${id} was made in pool ${o.poolUuid}, but ${otherPoolMessage(kind, here, o.connection)}`);
}

/**
 * The object for read() and delete(): undefined when it is gone, but only once the connection is known to reach
 * the resource's pool (assertSamePool) — "not found" in another pool is refused, not taken for a deletion.
 */
export async function existingRecord<R>(
  xapi: Xapi,
  cls: string,
  kind: string,
  id: string,
  o: { poolUuid?: string | null; connection?: string | null },
): Promise<{ ref: string; record: R } | undefined> {
  const found = await recordByUuid<R>(xapi, cls, id);
  if (!found) await assertSamePool(xapi, kind, id, o);
  return found;
}
