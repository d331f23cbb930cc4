// Finding what a VM is made from: its template (by name or UUID), an ISO, the default SR, and what a
// template says about itself (its disks, from the provision XML or its own VBDs, and its restrictions).
import { isNullRef, type SRRecord, type VDIRecord, type VMRecord } from "../../xapi";
import { isXapiError } from "../../xapi/errors";
import type { Xapi } from "../common/connection";
import { recordByUuid, recordsOfRefs } from "../common/lookups";
import { uuidPattern } from "../common/schema-parts";

export interface Named {
  uuid: string;
  name_label: string;
}

/** A quoted string in xapi's get_all_records_where language (db_filter.mll): backslash and quote escaped. */
export function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The one record an expression matches, or an error naming what is allowed / the candidates. */
function one<R extends Named>(
  found: Record<string, R>,
  field: string,
  what: string,
  given: string,
  hint: string,
): { ref: string; record: R } {
  const entries = Object.entries(found);
  if (entries.length === 1) return { ref: entries[0][0], record: entries[0][1] };
  if (!entries.length) throw new LookupError(field, `${field}: no ${what} named or with UUID "${given}"; ${hint}`);
  const list = entries.map(([, r]) => `${r.uuid} ("${r.name_label}")`).join(", ");
  throw new LookupError(
    field,
    `${field}: "${given}" is ambiguous: ${entries.length} ${what}s match (${list}); give the UUID`,
  );
}

/** A lookup that failed in a way check() reports against an input field. */
export class LookupError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A template is a VM record with is_a_template set. */
export type TemplateRecord = VMRecord;

/**
 * The template each name or UUID given led to, per session: a later lookup checks that it is still a template under
 * that name (two field reads) instead of searching again. Finding a template by name is a scan of every VM in xapi,
 * and every Vm's check and create look theirs up (issue 14). Concurrent first lookups share one search. The record
 * kept is the one the search read: a template's disks and recommendations are not edited while a command runs.
 */
const templates = new WeakMap<
  Xapi,
  Map<string, { found: Promise<{ ref: string; record: TemplateRecord }>; done: boolean }>
>();

export async function findTemplate(xapi: Xapi, given: string): Promise<{ ref: string; record: TemplateRecord }> {
  let known = templates.get(xapi);
  if (!known) templates.set(xapi, (known = new Map()));
  const entry = known.get(given);
  if (entry && !entry.done) return entry.found; // a search under way: as fresh as a new one
  if (entry) {
    const before = await entry.found;
    const now = await Promise.all([
      xapi.call<boolean>("VM.get_is_a_template", before.ref),
      xapi.call<string>("VM.get_name_label", before.ref),
    ]).catch((err: unknown) => {
      if (isXapiError(err, "HANDLE_INVALID")) return undefined; // gone: search again
      throw err;
    });
    // Still a template, under that name: the search would find it again (unless one of the same name was added).
    if (now && now[0] && (uuidPattern.test(given) || now[1] === given)) return before;
  }
  const next = { found: searchTemplate(xapi, given), done: false };
  known.set(given, next);
  next.found.then(
    () => (next.done = true),
    () => known.get(given) === next && known.delete(given), // a failed search is made again next time
  );
  return next.found;
}

/** The template named or with the UUID `given`, or the LookupError check() reports. */
async function searchTemplate(xapi: Xapi, given: string): Promise<{ ref: string; record: TemplateRecord }> {
  let found: Record<string, TemplateRecord>;
  if (uuidPattern.test(given)) {
    const hit = await recordByUuid<TemplateRecord>(xapi, "VM", given.toLowerCase());
    found = hit?.record.is_a_template ? { [hit.ref]: hit.record } : {};
  } else {
    const expr = `field "name__label" = ${quote(given)} and field "is_a_template" = "true"`;
    found = await xapi.call<Record<string, TemplateRecord>>("VM.get_all_records_where", expr);
  }
  return one(found, "template", "template", given, "list them with `xe template-list params=name-label,uuid`");
}

export type { VDIRecord as VdiRecord, SRRecord as SrRecord };

/** An ISO by name or UUID, on an SR whose content type is iso. */
export async function findIso(xapi: Xapi, given: string): Promise<{ ref: string; record: VDIRecord }> {
  const byUuid = uuidPattern.test(given);
  let found: Record<string, VDIRecord>;
  if (byUuid) {
    // By UUID: the index, not a scan of every VDI.
    const hit = await recordByUuid<VDIRecord>(xapi, "VDI", given.toLowerCase());
    found = hit ? { [hit.ref]: hit.record } : {};
  } else
    found = await xapi.call<Record<string, VDIRecord>>(
      "VDI.get_all_records_where",
      `field "name__label" = ${quote(given)}`,
    );
  const srs = await xapi.call<Record<string, SRRecord>>("SR.get_all_records_where", `field "content_type" = "iso"`);
  const isos = Object.fromEntries(Object.entries(found).filter(([, v]) => v.SR in srs));
  if (byUuid && Object.keys(found).length && !Object.keys(isos).length)
    throw new LookupError("cdrom", `cdrom: VDI ${given} is not on an ISO library SR; put a disk in disks instead`);
  return one(isos, "cdrom", "ISO", given, "ISOs are VDIs on an SR of content type iso (xe cd-list)");
}

/** The pool's default SR (its ref and uuid), or undefined when it has none. */
export async function defaultSr(xapi: Xapi): Promise<string | undefined> {
  const [pool] = await xapi.call<string[]>("pool.get_all");
  const ref = await xapi.call<string>("pool.get_default_SR", pool);
  return isNullRef(ref) ? undefined : ref;
}

export interface TemplateDisk {
  device: string;
  size: number;
  bootable: boolean;
}

/** The template's provision XML (other_config:disks), as xapi_templates.ml reads it. */
export function provisionDisks(xml: string | undefined): TemplateDisk[] {
  if (!xml) return [];
  const out: TemplateDisk[] = [];
  for (const m of xml.matchAll(/<disk\b([^>]*)\/?>/g)) {
    const attrs: Record<string, string> = {};
    for (const a of m[1].matchAll(/([A-Za-z_]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
    out.push({ device: attrs.device ?? "0", size: Number(attrs.size ?? 0), bootable: attrs.bootable === "true" });
  }
  return out;
}

/** Rewrites the provision XML: every disk onto `srUuid`, with the sizes the program grew them to. */
export function rewriteProvision(xml: string, srUuid: string, sizes: Array<number | undefined>): string {
  let i = 0;
  return xml.replace(/<disk\b([^>]*?)(\/?)>/g, (_m, attrs: string, slash: string) => {
    const grow = sizes[i++];
    let a = attrs.replace(/\bsr="[^"]*"/, `sr="${srUuid}"`);
    if (!/\bsr="/.test(a)) a += ` sr="${srUuid}"`;
    if (grow !== undefined) a = a.replace(/\bsize="[^"]*"/, `size="${grow}"`);
    return `<disk${a}${slash}>`;
  });
}

/** The limits a template's recommendations XML states (xapi's <restrictions>). */
export function restrictions(xml: string): { vcpusMax?: number; memoryMax?: number; vifs?: number; vbds?: number } {
  const num = (re: RegExp) => {
    const m = re.exec(xml);
    return m ? Number(m[1]) : undefined;
  };
  return {
    vcpusMax: num(/field="vcpus-max"\s+max="(\d+)"/),
    memoryMax: num(/field="memory-static-max"\s+max="(\d+)"/),
    vifs: num(/property="number-of-vifs"\s+max="(\d+)"/),
    vbds: num(/property="number-of-vbds"\s+max="(\d+)"/),
  };
}

/** The template's disks in device order: its provision XML, or (a custom template) its own disk VBDs. */
export async function templateDisks(xapi: Xapi, t: TemplateRecord): Promise<TemplateDisk[]> {
  const provisioned = provisionDisks(t.other_config.disks);
  if (provisioned.length || !t.VBDs.length) return provisioned;
  const vbds = await recordsOfRefs<{ VDI: string; type: string; userdevice: string; bootable: boolean }>(
    xapi,
    "VBD",
    t.VBDs,
  );
  const disks = Object.values(vbds).filter((b) => b.type === "Disk" && !isNullRef(b.VDI));
  const sizes = await Promise.all(disks.map((b) => xapi.call<number>("VDI.get_virtual_size", b.VDI)));
  return disks
    .map((b, i) => ({ device: b.userdevice, size: Number(sizes[i]), bootable: b.bootable }))
    .sort((a, b) => Number(a.device) - Number(b.device));
}
