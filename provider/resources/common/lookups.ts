// Finding XAPI objects: by uuid (undefined once deleted out of band), the pool master, and single fields by ref.
import { isXapiError } from "../../xapi/errors";
import type { Xapi } from "./connection";

/** The object's ref, or undefined when no object has this uuid (deleted out of band). */
export async function refByUuid(xapi: Xapi, cls: string, uuid: string): Promise<string | undefined> {
  try {
    return await xapi.call<string>(`${cls}.get_by_uuid`, uuid);
  } catch (err) {
    if (isXapiError(err, "UUID_INVALID") || isXapiError(err, "HANDLE_INVALID")) return undefined;
    throw err;
  }
}

/** The object's ref and record, or undefined when no object has this uuid (or it went between the two calls). */
export async function recordByUuid<R>(
  xapi: Xapi,
  cls: string,
  uuid: string,
): Promise<{ ref: string; record: R } | undefined> {
  const ref = await refByUuid(xapi, cls, uuid);
  const record = ref ? await recordOf<R>(xapi, cls, ref) : undefined;
  return ref && record !== undefined ? { ref, record } : undefined;
}

/** The object's record, or undefined when it is gone (HANDLE_INVALID). */
export function recordOf<R>(xapi: Xapi, cls: string, ref: string): Promise<R | undefined> {
  return fieldOf<R>(xapi, cls, "record", ref);
}

/** The pool master's host ref. */
export async function masterHost(xapi: Xapi): Promise<string> {
  const [pool] = await xapi.call<string[]>("pool.get_all");
  return xapi.call<string>("pool.get_master", pool);
}

/**
 * The records of these refs (each read once, in parallel), keyed by ref in the order given; a ref whose object went
 * meanwhile (HANDLE_INVALID) is left out. One indexed read per ref: never a scan of the class's table.
 */
export async function recordsOfRefs<R>(xapi: Xapi, cls: string, refs: readonly string[]): Promise<Record<string, R>> {
  const distinct = [...new Set(refs)];
  const read = await Promise.all(distinct.map((ref) => recordOf<R>(xapi, cls, ref)));
  const out: Record<string, R> = {};
  distinct.forEach((ref, i) => {
    if (read[i] !== undefined) out[ref] = read[i];
  });
  return out;
}

/** One field of one object (`<cls>.get_<field>`), or undefined when the object is gone (HANDLE_INVALID). */
export async function fieldOf<T>(xapi: Xapi, cls: string, field: string, ref: string): Promise<T | undefined> {
  try {
    return await xapi.call<T>(`${cls}.get_${field}`, ref);
  } catch (err) {
    if (isXapiError(err, "HANDLE_INVALID")) return undefined;
    throw err;
  }
}

// Fields xapi sets when it makes the object and never changes (datamodel RO/constructor: any uuid, a PIF's host,
// device and network, a Bond's master), and refs are never reused: what a session learnt stays true for the session.
const fixed = new WeakMap<Xapi, Map<string, Promise<unknown>>>();

/** A constructor-only field, read once per session; undefined (and asked again next time) when the object is gone. */
export function fixedFieldOf<T>(xapi: Xapi, cls: string, field: string, ref: string): Promise<T | undefined> {
  let known = fixed.get(xapi);
  if (!known) fixed.set(xapi, (known = new Map()));
  const key = `${cls}/${field}/${ref}`;
  let p = known.get(key) as Promise<T | undefined> | undefined;
  if (!p) {
    p = fieldOf<T>(xapi, cls, field, ref).then(
      (v) => {
        if (v === undefined) known.delete(key);
        return v;
      },
      (err: unknown) => {
        known.delete(key);
        throw err;
      },
    );
    known.set(key, p);
  }
  return p;
}

/** Every host of the pool, [ref, name_label], in the pool's order: names only, not records, which list every PIF. */
export async function hostNames(xapi: Xapi): Promise<Array<[string, string]>> {
  const refs = await xapi.call<string[]>("host.get_all");
  const names = await Promise.all(refs.map((h) => fieldOf<string>(xapi, "host", "name_label", h)));
  return refs.flatMap((h, i) => (names[i] === undefined ? [] : [[h, names[i]] as [string, string]]));
}
