// Every change to a VM is one of: hot (applied to the running VM), cold (needs it halted: a restart under
// updatePolicy "restart", a refusal under "fail"), replace (a new VM), or state (nothing to do in XAPI).
// diff() prints one line per change at preview; update() applies the same plan.
import { sameMap, sameSet } from "../common/owned-map";
import { containsUnknown, isUnknown } from "../common/unknowns";
import type { DiskInput, Inputs, NicInput, Outputs } from "./inputs";

export type Kind = "hot" | "cold" | "replace" | "state";

export interface Change {
  field: string;
  kind: Kind;
  /** Why a change that is hot elsewhere needs a halted VM here (the live guest refuses it: hotplug.ts). */
  reason?: string;
}

const same = (a: unknown, b: unknown) => !containsUnknown(b) && JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

const hotScalars = [
  "name",
  "description",
  "affinityHost",
  "haRestartPriority",
  "startDelay",
  "shutdownDelay",
  "cdrom",
] as const;
const stateOnly = ["waitForIp", "updatePolicy", "shutdownTimeout", "keepDisksOnDelete"] as const;

/** The disk fields a program states (an output entry also carries device, VDI and size). */
export function diskInputOf(d: DiskInput): DiskInput {
  const out: DiskInput = {};
  for (const k of ["size", "sr", "name", "bootable", "mode", "vdi"] as const)
    if (d[k] !== undefined && d[k] !== null) (out as Record<string, unknown>)[k] = d[k];
  return out;
}

export function nicInputOf(x: NicInput): NicInput {
  const out: Record<string, unknown> = {};
  for (const k of ["network", "mac", "mtu", "lockingMode", "ipv4Allowed", "ipv6Allowed"] as const)
    if (x[k] !== undefined && x[k] !== null) out[k] = x[k];
  return out as NicInput; // the fields of x, itself a NicInput, that are set
}

/** Whether the VM is in a state where cold changes need it shut down first. */
export function isUp(powerState: string | undefined): boolean {
  return powerState !== undefined && powerState !== "Halted";
}

export function classify(o: Outputs, n: Inputs): Change[] {
  const changes: Change[] = [];
  const add = (field: string, kind: Kind) => changes.push({ field, kind });
  const adoptedKeeps = !!n.adopt && o.adopt === n.adopt;
  if (!adoptedKeeps) {
    if (!same(o.template, n.template)) add("template", "replace");
    if (!same(o.cloneType, n.cloneType)) add("cloneType", "replace");
    if (!isUnknown(n.sr) && !same(o.sr ?? null, n.sr ?? null)) add("sr", "replace");
  }
  if (!same(o.cloudInitHash ?? null, n.cloudInitHash ?? null) && !(isUnknown(n.cloudInit) && o.cloudInit)) {
    const ignore = (n.cloudInit?.changes ?? o.cloudInit?.changes) === "ignore";
    add("cloudInit", ignore && o.cloudInitHash ? "state" : "replace");
  } else if (
    !same(o.cloudInit?.detachAfterBoot, n.cloudInit?.detachAfterBoot) ||
    !same(o.cloudInit?.changes, n.cloudInit?.changes)
  )
    add("cloudInit", "state");

  // A field the program does not state (an adopted VM's) is left as it is: never a change.
  for (const k of hotScalars) if (n[k] !== undefined && !same(o[k], n[k])) add(k, "hot");
  if (!sameSet(o.tags, n.tags) && !containsUnknown(n.tags)) add("tags", "hot");
  for (const k of ["otherConfig", "xenstoreData", "blockedOperations"] as const)
    if (n[k] !== undefined && !sameMap(o[k], n[k]) && !containsUnknown(n[k])) add(k, "hot");
  if (n.platform !== undefined && !sameMap(o.platform, n.platform) && !containsUnknown(n.platform))
    add("platform", "cold");

  if (n.vcpusMax !== undefined && !same(o.vcpusMax ?? null, n.vcpusMax)) add("vcpusMax", "cold");
  if (n.coresPerSocket !== undefined && !same(o.coresPerSocket ?? null, n.coresPerSocket))
    add("coresPerSocket", "cold");
  if (n.vcpus !== undefined && !same(o.vcpus ?? null, n.vcpus)) {
    // Live only up to the VCPUs_max the VM already has (set_VCPUs_number_live refuses more).
    const liveMax = o.vcpusMax ?? o.vcpus;
    add(
      "vcpus",
      n.vcpus !== undefined &&
        liveMax !== undefined &&
        n.vcpus <= liveMax &&
        same(o.vcpusMax ?? null, n.vcpusMax ?? null)
        ? "hot"
        : "cold",
    );
  }
  const om = o.memory;
  const nm = n.memory;
  if (nm && !containsUnknown(nm)) {
    if (!om || om.staticMax !== nm.staticMax) add("memory.staticMax", "cold");
    if (nm.staticMin !== undefined && om?.staticMin !== nm.staticMin) add("memory.staticMin", "cold");
    const staticMax = nm.staticMax;
    for (const k of ["dynamicMin", "dynamicMax"] as const)
      if (!om || om[k] !== nm[k])
        add(`memory.${k}`, nm[k] <= staticMax && (nm.staticMin ?? 0) <= nm[k] ? "hot" : "cold");
  }

  if (!same(o.boot?.firmware ?? null, n.boot?.firmware ?? null) && n.boot?.firmware !== undefined)
    add("boot.firmware", "cold");
  if (!same(o.boot?.order ?? null, n.boot?.order ?? null) && n.boot?.order !== undefined) add("boot.order", "hot");

  diskChanges(o, n, add);
  nicChanges(o, n, add);

  // o.powerState is the live state (read reports it), so a VM stopped out of band shows as a change here.
  if (n.powerState !== undefined && !same(o.powerState, n.powerState)) add("powerState", "hot");
  for (const k of stateOnly) if (!same(o[k] ?? null, n[k] ?? null)) add(k, "state");
  if (!same(o.identity ?? null, n.identity ?? null)) add("identity", "hot");
  return changes;
}

function diskChanges(o: Outputs, n: Inputs, add: (field: string, kind: Kind) => void): void {
  if (n.disks === undefined) return;
  const olds = (o.disks ?? []).map(diskInputOf);
  if (containsUnknown(n.disks)) {
    if (!same(olds, n.disks)) add("disks", "hot");
    return;
  }
  const count = Math.max(olds.length, n.disks.length);
  for (let i = 0; i < count; i++) {
    const a = olds[i];
    const b = n.disks[i];
    const f = `disks[${i}]`;
    if (!a) add(`${f} (added)`, "hot");
    else if (!b) {
      if (!o.disks[i].fromTemplate) add(`${f} (removed)`, "hot");
    } else if (
      (a.vdi ?? null) !== (b.vdi ?? null) ||
      (b.vdi === undefined && b.sr !== undefined && (a.sr ?? null) !== b.sr)
    )
      add(`${f} (another disk)`, "hot");
    else {
      if (b.size !== undefined && a.size !== b.size) add(`${f}.size`, "hot");
      if (b.name !== undefined && a.name !== b.name) add(`${f}.name`, "hot");
      if (b.bootable !== undefined && a.bootable !== b.bootable) add(`${f}.bootable`, "hot");
      if (b.mode !== undefined && (a.mode ?? "RW") !== b.mode) add(`${f}.mode`, "cold");
    }
  }
}

function nicChanges(o: Outputs, n: Inputs, add: (field: string, kind: Kind) => void): void {
  if (n.networkInterfaces === undefined) return;
  const olds = (o.networkInterfaces ?? []).map(nicInputOf);
  if (containsUnknown(n.networkInterfaces)) {
    if (!same(olds, n.networkInterfaces)) add("networkInterfaces", "hot");
    return;
  }
  const count = Math.max(olds.length, n.networkInterfaces.length);
  for (let i = 0; i < count; i++) {
    const a = olds[i];
    const b = n.networkInterfaces[i];
    const f = `networkInterfaces[${i}]`;
    if (!a) add(`${f} (added)`, "hot");
    else if (!b) add(`${f} (removed)`, "hot");
    else
      for (const k of ["network", "mac", "mtu", "lockingMode", "ipv4Allowed", "ipv6Allowed"] as const)
        if (b[k] !== undefined && !same(a[k] ?? null, b[k])) add(`${f}.${k}`, "hot");
  }
}

/** The line preview shows for a change, e.g. `web-1: memory.staticMax needs a restart (updatePolicy restart)`. */
export function describe(name: string, c: Change, n: Inputs, livePowerState: string | undefined): string {
  switch (c.kind) {
    case "replace":
      return `${name}: ${c.field} changed: replaces the VM`;
    case "state":
      return `${name}: ${c.field} changed: recorded, nothing to apply`;
    case "hot":
      return `${name}: ${c.field} is applied ${isUp(livePowerState) ? "live, without a restart" : "to the halted VM"}`;
    case "cold":
      return isUp(livePowerState)
        ? `${name}: ${c.field} needs a restart (${c.reason ? `${c.reason}; ` : ""}updatePolicy ${n.updatePolicy})`
        : `${name}: ${c.field} is applied to the halted VM`;
  }
}
