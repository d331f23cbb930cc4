/** Disk contents written through /import_raw_vdi (in memory only; unwritten bytes read as zeros). */
import { Xapi } from "../engine/xapi";

const data = new WeakMap<Xapi, Map<string, Buffer>>();

export function vdiData(x: Xapi): Map<string, Buffer> {
  let m = data.get(x);
  if (!m) data.set(x, (m = new Map()));
  return m;
}
