// check() for Vm: the schema, then the rules xapi would refuse midway through `up` (memory ordering, vCPUs,
// topology, MACs, Secure Boot…), then what needs a look at the pool (template, SRs, networks, ISO, disks).
// Everything fails at preview, naming the field, the value given and what is allowed.
import * as crypto from "node:crypto";
import * as net from "node:net";
import type { CheckFailure, CheckResult, Prior, Props, ResourceContext } from "../contract";
import { checkInputs } from "../common/check";
import { xapiFor, type Xapi } from "../common/connection";
import { recordByUuid, refByUuid } from "../common/lookups";
import { formatSize, parseSize, sizeHelp } from "../common/sizes";
import { containsUnknown, isUnknown } from "../common/unknowns";
import { inputSchema, type DiskInput, type Inputs, type MemoryBytes, type Parsed } from "./inputs";
import {
  findIso,
  findTemplate,
  LookupError,
  restrictions,
  templateDisks,
  type SrRecord,
  type TemplateDisk,
  type VdiRecord,
} from "./lookups";

/** Fields that only matter when the VM is made: an adopted VM keeps how it was made. */
const creationOnly = ["template", "cloneType", "sr", "cloudInit"];

const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export async function check(olds: Prior<Inputs>, news: Props, ctx: ResourceContext): Promise<CheckResult<Inputs>> {
  const { value, failures } = checkInputs(inputSchema, news, ctx, creationOnly);
  if (!value) return { failures };
  const normalized = normalize(value, failures);
  if (failures.length) return { failures };
  failures.push(...staticRules(normalized));
  if (failures.length) return { failures };
  failures.push(...(await poolRules(olds, normalized, ctx)));
  if (failures.length) return { failures };
  // The engine's struct encoding refuses undefined ("Unexpected struct type"): an adopted VM's unstated lists go.
  const inputs = Object.fromEntries(Object.entries(normalized).filter(([, v]) => v !== undefined)) as Inputs;
  return { inputs };
}

function sizeOf(field: string, v: unknown, failures: CheckFailure[]): number | undefined {
  if (v === undefined || isUnknown(v)) return undefined;
  const n = parseSize(v);
  if (n === undefined)
    failures.push({ property: field, reason: `${field}: ${JSON.stringify(v)} is not a size; use ${sizeHelp}` });
  return n;
}

/** Sizes to bytes, MACs to lower case, the cloud-init drive's digest. */
export function normalize(value: Parsed, failures: CheckFailure[]): Inputs {
  // memory and disk sizes are still as given here; they are turned into bytes below, before anything reads them.
  const out = { ...value } as unknown as Inputs;
  const m = value.memory;
  if (m !== undefined && !containsUnknown(m)) {
    if (typeof m === "object") {
      const mem: MemoryBytes = {
        dynamicMin: sizeOf("memory.dynamicMin", m.dynamicMin, failures) ?? 0,
        dynamicMax: sizeOf("memory.dynamicMax", m.dynamicMax, failures) ?? 0,
        staticMax: sizeOf("memory.staticMax", m.staticMax, failures) ?? 0,
      };
      const smin = sizeOf("memory.staticMin", m.staticMin, failures);
      if (smin !== undefined) mem.staticMin = smin;
      out.memory = mem;
    } else {
      const v = sizeOf("memory", m, failures) ?? 0;
      out.memory = { dynamicMin: v, dynamicMax: v, staticMax: v };
    }
  }
  out.disks = value.disks?.map((d, i) => {
    const disk: DiskInput = { ...d } as DiskInput;
    if ("size" in d && d.size !== undefined) disk.size = sizeOf(`disks[${i}].size`, d.size, failures);
    return disk;
  });
  out.networkInterfaces = value.networkInterfaces?.map((n) =>
    n.mac !== undefined && !isUnknown(n.mac) ? { ...n, mac: n.mac.toLowerCase().replace(/-/g, ":") } : n,
  );
  if (value.cloudInit && !containsUnknown(value.cloudInit)) {
    const c = value.cloudInit;
    out.cloudInitHash = `sha256:${crypto
      .createHash("sha256")
      .update(JSON.stringify([c.userData, c.metaData ?? null, c.networkConfig ?? null]))
      .digest("hex")}`;
  }
  return out;
}

/** The rules that need nothing but the inputs. */
export function staticRules(n: Inputs): CheckFailure[] {
  const f: CheckFailure[] = [];
  const fail = (property: string, reason: string) => f.push({ property, reason: `${property}: ${reason}` });
  if (n.adopt === undefined && n.template === undefined)
    fail("template", "is required (a template name or UUID) unless adopt is given");
  const mem = n.memory;
  if (mem) {
    const smin = mem.staticMin ?? 0;
    const order: Array<[string, number]> = [
      ["staticMin", smin],
      ["dynamicMin", mem.dynamicMin],
      ["dynamicMax", mem.dynamicMax],
      ["staticMax", mem.staticMax],
    ];
    for (let i = 1; i < order.length; i++) {
      const [a, av] = order[i - 1];
      const [b, bv] = order[i];
      if (av > bv && !(a === "staticMin" && mem.staticMin === undefined))
        fail(
          `memory.${b}`,
          `${formatSize(bv)} is below memory.${a} ${formatSize(av)}; xapi needs staticMin ≤ dynamicMin ≤ dynamicMax ≤ staticMax`,
        );
    }
    if (mem.staticMax < 16 * 1024 * 1024)
      fail("memory", `${formatSize(mem.staticMax)} is too small; give at least 16 MiB`);
  }
  const vmax = n.vcpusMax ?? n.vcpus;
  if (n.vcpus !== undefined && n.vcpusMax !== undefined && n.vcpus > n.vcpusMax)
    fail("vcpus", `${n.vcpus} is above vcpusMax ${n.vcpusMax}; give at most ${n.vcpusMax} or raise vcpusMax`);
  if (n.coresPerSocket !== undefined) {
    if (vmax === undefined) fail("coresPerSocket", "needs vcpusMax (or vcpus): it must divide the number of vCPUs");
    else if (vmax % n.coresPerSocket !== 0)
      fail(
        "coresPerSocket",
        `${n.coresPerSocket} does not divide vcpusMax ${vmax}; allowed: ${divisors(vmax).join(", ")}`,
      );
  }
  if (n.waitForIp && n.powerState !== "Running")
    fail("waitForIp", `needs powerState "Running" (given "${n.powerState}"): only a running guest reports addresses`);
  if (n.waitForIp?.cidr !== undefined && !parseCidr(n.waitForIp.cidr))
    fail("waitForIp.cidr", `"${n.waitForIp.cidr}" is not a CIDR such as 10.0.0.0/8 or fd00::/64`);
  if (n.waitForIp?.interface !== undefined && n.waitForIp.interface >= (n.networkInterfaces ?? []).length)
    fail(
      "waitForIp.interface",
      `${n.waitForIp.interface} is not one of the VM's interfaces (devices 0 to ${(n.networkInterfaces ?? []).length - 1})`,
    );
  if (n.boot?.firmware === "bios" && (n.platform.secureboot === "true" || n.platform.secureboot === "auto"))
    fail("platform.secureboot", `"${n.platform.secureboot}" needs UEFI firmware; use boot.firmware "uefi-secureboot"`);
  if (n.boot?.order && new Set(n.boot.order).size !== n.boot.order.length)
    fail("boot.order", `"${n.boot.order}" names a device twice; give each of c, d, n at most once`);
  const macs = new Map<string, number>();
  (n.networkInterfaces ?? []).forEach((nic, i) => {
    const mac = nic.mac;
    if (mac === undefined || isUnknown(mac)) {
      // generated by xapi
    } else if (!macPattern.test(mac))
      fail(`networkInterfaces[${i}].mac`, `"${mac}" is not a MAC address such as 02:16:3e:12:34:56`);
    else if (parseInt(mac.slice(0, 2), 16) & 1)
      fail(`networkInterfaces[${i}].mac`, `"${mac}" is a multicast address; the first byte must be even`);
    else if (macs.has(mac))
      fail(`networkInterfaces[${i}].mac`, `"${mac}" is already used by networkInterfaces[${macs.get(mac)}]`);
    else macs.set(mac, i);
    for (const [k, fam] of [
      ["ipv4Allowed", 4],
      ["ipv6Allowed", 6],
    ] as const)
      (nic[k] ?? []).forEach((a, j) => {
        if (!isUnknown(a) && net.isIP(a) !== fam)
          fail(`networkInterfaces[${i}].${k}[${j}]`, `"${a}" is not an IPv${fam} address`);
      });
  });
  const vdis = new Map<string, number>();
  (n.disks ?? []).forEach((d, i) => {
    if (d.vdi === undefined || isUnknown(d.vdi)) return;
    if (vdis.has(d.vdi)) fail(`disks[${i}].vdi`, `${d.vdi} is already attached as disks[${vdis.get(d.vdi)}]`);
    vdis.set(d.vdi, i);
  });
  if (n.cloudInit && !isUnknown(n.cloudInit.userData) && n.cloudInit.userData.trim() === "")
    fail("cloudInit.userData", 'must not be empty; start it with "#cloud-config"');
  return f;
}

function divisors(v: number): number[] {
  return Array.from({ length: v }, (_, i) => i + 1).filter((d) => v % d === 0);
}

export function parseCidr(cidr: string): { family: 4 | 6; bits: bigint; prefix: number } | undefined {
  const m = /^([^/]+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const family = net.isIP(m[1]);
  const prefix = Number(m[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  return { family: family as 4 | 6, bits: addressBits(m[1]), prefix };
}

function addressBits(a: string): bigint {
  if (net.isIPv4(a)) return a.split(".").reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
  const [head, tail] = a.split("::");
  const parts = (s: string | undefined) => (s ? s.split(":") : []);
  const h = parts(head);
  const t = tail === undefined ? [] : parts(tail);
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || "0", 16)), 0n);
}

/** Whether `address` lies inside `cidr` (same family only). */
export function inCidr(address: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  const fam = net.isIP(address);
  if (!c || fam !== c.family) return false;
  const width = BigInt(fam === 4 ? 32 : 128);
  const shift = width - BigInt(c.prefix);
  return addressBits(address) >> shift === c.bits >> shift;
}

/** Rules that need the pool: looked at only for what changed since the last run (or on create). */
async function poolRules(o: Prior<Inputs>, n: Inputs, ctx: ResourceContext): Promise<CheckFailure[]> {
  const f: CheckFailure[] = [];
  const disks = n.disks ?? [];
  const nics = n.networkInterfaces ?? [];
  const changed = (k: keyof Inputs) => JSON.stringify(o[k] ?? null) !== JSON.stringify(n[k] ?? null);
  const creating = !o.name;
  const fields: Array<keyof Inputs> = [
    "template",
    "sr",
    "disks",
    "networkInterfaces",
    "cdrom",
    "affinityHost",
    "vcpusMax",
    "memory",
  ];
  if (!creating && !fields.some(changed)) return f;
  const nothingToFind =
    n.template === undefined &&
    n.sr === undefined &&
    !disks.length &&
    !nics.length &&
    n.cdrom === undefined &&
    n.affinityHost === undefined;
  if (nothingToFind) return f; // an adoption that names nothing in the pool
  if (containsUnknown(n.connection)) return f;
  const xapi = await xapiFor(ctx.config, n.connection);
  const fail = (property: string, reason: string) => f.push({ property, reason: `${property}: ${reason}` });
  const tryLookup = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof LookupError)) throw err;
      f.push({ property: err.field, reason: err.message });
      return undefined;
    }
  };

  let tDisks: TemplateDisk[] | undefined;
  if (
    n.template !== undefined &&
    !isUnknown(n.template) &&
    (creating ||
      changed("template") ||
      changed("disks") ||
      changed("vcpusMax") ||
      changed("memory") ||
      changed("networkInterfaces"))
  ) {
    const t = await tryLookup(() => findTemplate(xapi, n.template!));
    if (t) {
      tDisks = await templateDisks(xapi, t.record);
      const limits = restrictions(t.record.recommendations ?? "");
      const vmax = n.vcpusMax ?? n.vcpus;
      if (limits.vcpusMax !== undefined && vmax !== undefined && vmax > limits.vcpusMax)
        fail(
          n.vcpusMax !== undefined ? "vcpusMax" : "vcpus",
          `${vmax} is above the ${limits.vcpusMax} vCPUs template "${t.record.name_label}" allows`,
        );
      if (limits.memoryMax !== undefined && n.memory && n.memory.staticMax > limits.memoryMax)
        fail(
          "memory.staticMax",
          `${formatSize(n.memory.staticMax)} is above the ${formatSize(limits.memoryMax)} template "${t.record.name_label}" allows`,
        );
      if (limits.vifs !== undefined && nics.length > limits.vifs)
        fail(
          "networkInterfaces",
          `${nics.length} interfaces; template "${t.record.name_label}" allows at most ${limits.vifs}`,
        );
      if (limits.vbds !== undefined && disks.length + (n.cloudInit ? 1 : 0) + 1 > limits.vbds)
        fail(
          "disks",
          `${disks.length} disks; template "${t.record.name_label}" allows at most ${limits.vbds - 1} besides the CD drive`,
        );
    }
  }
  // Template disks: taken over by position, may grow, never shrink. A disk that exists keeps its live size as the floor.
  const templateCount = tDisks?.length;
  const previous = (o.disks ?? []) as Array<DiskInput & { virtualSize?: number }>;
  disks.forEach((d, i) => {
    if (d.vdi !== undefined) return;
    const isTemplateDisk = templateCount !== undefined && i < templateCount;
    const old = previous[i] && previous[i].vdi === undefined ? previous[i].virtualSize : undefined;
    const before = Math.max(old ?? 0, isTemplateDisk ? tDisks![i].size : 0);
    if (d.size !== undefined && before && d.size < before)
      fail(
        `disks[${i}].size`,
        `${formatSize(d.size)} is smaller than the disk's ${formatSize(before)}; disks can grow, never shrink (XenServer refuses it)`,
      );
    if (!isTemplateDisk && templateCount !== undefined && d.size === undefined && !old)
      fail(
        `disks[${i}].size`,
        `is required for a new disk (the template has ${templateCount} disk${templateCount === 1 ? "" : "s"}); ${sizeHelp}`,
      );
    if (d.sr !== undefined && isTemplateDisk)
      fail(`disks[${i}].sr`, "a template disk goes on the VM's sr; sr is for new disks");
  });

  const srFields: Array<[string, string | undefined]> = [
    ["sr", n.sr],
    ...disks.map((d, i): [string, string | undefined] => [`disks[${i}].sr`, d.sr]),
  ];
  const srUuids = [...new Set(srFields.map(([, v]) => v).filter((v): v is string => v !== undefined && !isUnknown(v)))];
  if (srUuids.length) {
    const srs = await byUuids<SrRecord>(xapi, "SR", srUuids);
    for (const [field, v] of srFields) {
      if (v === undefined || isUnknown(v)) continue;
      const sr = srs.get(v);
      if (!sr) fail(field, `no SR with UUID ${v} in this pool`);
      else if (sr.content_type === "iso")
        fail(field, `"${sr.name_label}" is an ISO library; disks go on an SR with content type user`);
    }
  }
  const nets = nics.map((x) => x.network).filter((v) => !isUnknown(v));
  if (nets.length) {
    const found = await existing(xapi, "network", nets);
    nics.forEach((x, i) => {
      if (!isUnknown(x.network) && !found.has(x.network))
        fail(`networkInterfaces[${i}].network`, `no network with UUID ${x.network} in this pool`);
    });
  }
  const vdis = disks.map((d) => d.vdi).filter((v): v is string => v !== undefined && !isUnknown(v));
  if (vdis.length) {
    const found = await byUuids<VdiRecord>(xapi, "VDI", vdis);
    const isoSrs = await xapi.call<Record<string, SrRecord>>(
      "SR.get_all_records_where",
      `field "content_type" = "iso"`,
    );
    disks.forEach((d, i) => {
      if (d.vdi === undefined || isUnknown(d.vdi)) return;
      const v = found.get(d.vdi);
      if (!v) fail(`disks[${i}].vdi`, `no VDI with UUID ${d.vdi} in this pool`);
      else if (v.SR in isoSrs) fail(`disks[${i}].vdi`, `${d.vdi} is an ISO; put it in cdrom instead`);
    });
  }
  if (n.cdrom !== undefined && n.cdrom !== "" && !isUnknown(n.cdrom) && (creating || changed("cdrom")))
    await tryLookup(() => findIso(xapi, n.cdrom!));
  if (n.affinityHost !== undefined && !isUnknown(n.affinityHost) && (creating || changed("affinityHost"))) {
    const hosts = await existing(xapi, "host", [n.affinityHost]);
    if (!hosts.size) fail("affinityHost", `no host with UUID ${n.affinityHost} in this pool`);
  }
  return f;
}

/**
 * Records of `cls` with these UUIDs, keyed by their uuid: one indexed lookup each (get_by_uuid, get_record), in
 * parallel, never a scan of the class's table (issue 14). A UUID no object has is left out.
 */
async function byUuids<R extends { uuid: string }>(
  xapi: Xapi,
  cls: string,
  uuids: string[],
): Promise<Map<string, R & { ref: string }>> {
  const found = await Promise.all([...new Set(uuids)].map((u) => recordByUuid<R>(xapi, cls, u)));
  return new Map(found.filter((f) => f !== undefined).map(({ ref, record }) => [record.uuid, { ...record, ref }]));
}

/** The UUIDs among these that name an object of `cls` (get_by_uuid each, in parallel). */
async function existing(xapi: Xapi, cls: string, uuids: string[]): Promise<Set<string>> {
  const distinct = [...new Set(uuids)];
  const refs = await Promise.all(distinct.map((u) => refByUuid(xapi, cls, u)));
  return new Set(distinct.filter((_, i) => refs[i] !== undefined));
}
