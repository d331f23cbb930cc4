// Finding XAPI objects: by uuid (undefined once deleted out of band), and the pool master.
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
  if (!ref) return undefined;
  try {
    return { ref, record: await xapi.call<R>(`${cls}.get_record`, ref) };
  } catch (err) {
    if (isXapiError(err, "HANDLE_INVALID")) return undefined;
    throw err;
  }
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
  const read = await Promise.all(
    distinct.map((ref) =>
      xapi.call<R>(`${cls}.get_record`, ref).catch((err: unknown) => {
        if (isXapiError(err, "HANDLE_INVALID")) return undefined;
        throw err;
      }),
    ),
  );
  const out: Record<string, R> = {};
  distinct.forEach((ref, i) => {
    if (read[i] !== undefined) out[ref] = read[i];
  });
  return out;
}
