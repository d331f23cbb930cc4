// The comparison: each managed resource's state against the live records, through its kind's own comparison
// (the code its read() and diff() use), plus objects of the managed kinds that no stack owns.
import * as crypto from "node:crypto";
import type { AttributeChange, LiveComparison, LiveRecords } from "../resources/common/live";
import { identityKeys } from "../resources/common/identity";
import { resourceKinds } from "../resources/registry";
import type { Snapshot } from "./snapshot";
import { opaqueSecret, type ManagedResource, type SourcePosition } from "./state";

/** The drift comparison of each resource kind that has one (ResourceModule.comparison). */
export const comparisons: Record<string, LiveComparison<unknown>> = Object.fromEntries(
  Object.entries(resourceKinds).flatMap(([k, m]) => (m.comparison ? [[k, m.comparison]] : [])),
);

export type FindingKind = "modified" | "deleted" | "unmanaged";

export interface Change extends AttributeChange {
  /** Values are `sha256:…` digests: the attribute is a secret. */
  redacted?: boolean;
}

/** Who made a change, from the pool's audit log; "unknown" when the log cannot be read or names no one. */
export interface Actor {
  user: string;
  originator?: string;
  call?: string;
  at?: string;
}

export interface Finding {
  kind: FindingKind;
  /** The pool, as the connection profile names it. */
  pool: string;
  urn?: string;
  name: string;
  type: string;
  /** The XAPI object. */
  uuid: string;
  changes: Change[];
  source?: SourcePosition;
  /** ISO time the finding was first seen (watch keeps it across comparisons). */
  firstSeen: string;
  actor?: Actor | "unknown";
}

/** The key that identifies a finding across comparisons (for timelines and "first seen"). */
export function findingKey(f: Finding, change?: Change): string {
  return `${f.kind}|${f.urn ?? `${f.type}:${f.uuid}`}|${change?.path ?? ""}`;
}

export function digest(v: unknown): string {
  return `sha256:${crypto
    .createHash("sha256")
    .update(JSON.stringify(v ?? null))
    .digest("hex")
    .slice(0, 16)}`;
}

/** One resource against the live records: its finding, or undefined when in sync. */
export async function compareResource(
  r: ManagedResource,
  poolName: string,
  live: LiveRecords,
  now = new Date(),
): Promise<Finding | undefined> {
  const cmp = comparisons[r.kind];
  if (!cmp) return undefined;
  const base = { pool: poolName, urn: r.urn, name: r.name, type: r.kind, uuid: r.id, source: r.source };
  const seen = await cmp.observe(r.id, r.outputs, live);
  if (!seen) return { ...base, kind: "deleted", changes: [], firstSeen: now.toISOString() };
  const changes: Change[] = [];
  for (const c of cmp.compare(r.outputs, seen.inputs)) {
    const top = c.path.split(/[[.]/)[0];
    if (r.outputs[top] === opaqueSecret) continue; // a secret without plaintext cannot be compared
    changes.push(
      r.secrets.has(top) ? { path: c.path, expected: digest(c.expected), actual: digest(c.actual), redacted: true } : c,
    );
  }
  if (seen.missingOn?.length) changes.push({ path: "missingOn", expected: [], actual: seen.missingOn });
  return changes.length ? { ...base, kind: "modified", changes, firstSeen: now.toISOString() } : undefined;
}

/** The XAPI classes the unmanaged scan covers, by resource kind. */
export const unmanagedClasses: Record<string, string> = { network: "Network", SR: "Sr", VDI: "Vdi", VM: "Vm" };

type Rec = Record<string, unknown>;

/**
 * Objects of the managed kinds that no stack owns. Left out: what the installer or xapi makes (the pool's NIC
 * networks, the host-internal management network, local storage, the tools SR and ISOs), templates, snapshots,
 * the control domain, media on ISO libraries, disks of templates, snapshots and the control domain, and objects
 * another stack's resources carry the identity of.
 */
export function unmanaged(snapshot: Snapshot, poolName: string, managed: Set<string>, stack: string): Finding[] {
  const out: Finding[] = [];
  const now = new Date().toISOString();
  const otherStack = (r: Rec) => {
    const s = (r.other_config as Record<string, string> | undefined)?.[identityKeys.stack];
    return s !== undefined && s !== stack;
  };
  const pifs = snapshot.records("PIF");
  const srs = snapshot.records("SR");
  const vbds = snapshot.records("VBD");
  const vms = snapshot.records("VM");
  const installed = (r: Rec) => {
    const oc = (r.other_config ?? {}) as Record<string, string>;
    return oc.is_host_internal_management_network === "true" || oc.is_guest_installer_network === "true";
  };
  const ignoredSr = (r: Rec | undefined) =>
    !r ||
    r.is_tools_sr === true ||
    r.type === "udev" ||
    (r.other_config as Record<string, string> | undefined)?.["i18n-key"] === "local-storage";
  const internalVdi = (r: Rec) => {
    if (r.is_a_snapshot === true || r.is_tools_iso === true || r.managed === false) return true;
    const onSr = srs.get(String(r.SR));
    if (ignoredSr(onSr) || onSr?.content_type === "iso") return true;
    return ((r.VBDs as string[]) ?? []).some((b) => {
      const vm = vms.get(String(vbds.get(b)?.VM));
      return !!vm && (vm.is_a_template === true || vm.is_a_snapshot === true || vm.is_control_domain === true);
    });
  };
  for (const [cls, type] of Object.entries(unmanagedClasses)) {
    for (const [, r] of snapshot.records(cls)) {
      const uuid = String(r.uuid);
      if (managed.has(uuid) || otherStack(r)) continue;
      if (cls === "network") {
        const physical = ((r.PIFs as string[]) ?? []).some((p) => pifs.get(p)?.physical === true);
        if (physical || installed(r)) continue;
      }
      if (cls === "SR" && ignoredSr(r)) continue;
      if (cls === "VDI" && internalVdi(r)) continue;
      if (cls === "VM" && (r.is_a_template === true || r.is_a_snapshot === true || r.is_control_domain === true))
        continue;
      out.push({
        kind: "unmanaged",
        pool: poolName,
        name: String(r.name_label ?? ""),
        type,
        uuid,
        changes: [],
        firstSeen: now,
      });
    }
  }
  return out;
}
