// The pool's and hosts' SR fields (default, suspend-image, crash-dump SR) are plain references: xapi's SR.forget and
// SR.destroy leave them pointing at nothing (SR.get_record then answers HANDLE_INVALID). Before an SR goes, its
// delete empties every field that names it.
import { NULL_REF } from "../../xapi";
import type { Xapi } from "./connection";

const poolFields = [
  ["default_SR", "default SR"],
  ["suspend_image_SR", "suspend-image SR"],
  ["crash_dump_SR", "crash-dump SR"],
] as const;
const hostFields = [
  ["suspend_image_sr", "suspend-image SR"],
  ["crash_dump_sr", "crash-dump SR"],
] as const;

/** Empties the pool and host fields that name `sr`; returns what it emptied ("the pool's default SR", …). */
export async function releasePoolReferences(xapi: Xapi, sr: string): Promise<string[]> {
  const released: string[] = [];
  const pools = await xapi.call<Record<string, Record<string, string>>>("pool.get_all_records");
  for (const [ref, pool] of Object.entries(pools))
    for (const [field, what] of poolFields)
      if (pool[field] === sr) {
        await xapi.call(`pool.set_${field}`, ref, NULL_REF);
        released.push(`the pool's ${what}`);
      }
  const hosts = await xapi.call<Record<string, Record<string, string>>>("host.get_all_records");
  for (const [ref, host] of Object.entries(hosts))
    for (const [field, what] of hostFields)
      if (host[field] === sr) {
        await xapi.call(`host.set_${field}`, ref, NULL_REF);
        released.push(`host ${host.name_label}'s ${what}`);
      }
  return released;
}
