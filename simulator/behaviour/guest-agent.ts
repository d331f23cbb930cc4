/**
 * The simulated guest behind each VM: whether it runs a guest agent and how that agent and the guest's kernel
 * behave. Simulator-only state (sim.guests, --guest RULE), never a field or other_config key of xapi's DB:
 * seeded per default template, inherited by clones, copies and snapshots.
 */
import { Xapi } from "../engine/xapi";

export interface GuestAddresses {
  ipv4?: string[];
  ipv6?: string[];
}

export interface GuestConfig {
  /** The guest runs an agent (xe-guest-utilities / xen-guest-agent) that writes to xenstore. */
  agent: boolean;
  /** From the domain's start to the agent's first report; default the simulator's guestMetricsDelayMs. */
  bootDelayMs?: number;
  /** Addresses come with the first report ("prompt"), addressDelayMs after it ("late"), or never. */
  addresses: "prompt" | "late" | "never";
  /** Default: a quarter of the boot delay. */
  addressDelayMs?: number;
  /** Addresses per VIF device ("0", "1"…), instead of cloud-init's or the ones derived from the MAC. */
  networks?: Record<string, GuestAddresses>;
  /** What the agent writes to data/host_name_dns (VM_guest_metrics.netbios_name.host_name); default cloud-init's. */
  hostname?: string;
  /**
   * A clean shutdown or reboot request: "obey" halts, "ignore" acknowledges it and keeps running (the call
   * waits for its timeout), "no-ack" never acknowledges (VM_FAILED_SHUTDOWN_ACKNOWLEDGMENT after the ack timeout).
   */
  shutdown: "obey" | "ignore" | "no-ack";
}

export const GUEST_DEFAULTS: GuestConfig = { agent: false, addresses: "late", shutdown: "obey" };

/** `--guest [NAME_GLOB:]key=value,…`: applies to every VM whose name_label matches (all without a glob). */
export interface GuestRule {
  name?: string;
  set: Partial<GuestConfig>;
}

interface GuestState {
  perVm: Map<string, Partial<GuestConfig>>;
  rules: GuestRule[];
  /** Called when a VM's guest changes while it runs, so that its agent reports again. */
  changed: (vm: string) => void;
}

const states = new WeakMap<Xapi, GuestState>();

function state(x: Xapi): GuestState {
  let s = states.get(x);
  if (!s) states.set(x, (s = { perVm: new Map(), rules: [], changed: () => undefined }));
  return s;
}

function globMatch(glob: string, name: string): boolean {
  const re = new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return re.test(name);
}

/** The guest of `vm` as it behaves now: defaults, then its own state, then matching rules (rules win). */
export function guestOf(x: Xapi, vm: string): GuestConfig {
  const s = state(x);
  const name = String(x.store.tryGet("VM", vm)?.name_label ?? "");
  let out: GuestConfig = { ...GUEST_DEFAULTS, ...s.perVm.get(vm) };
  for (const r of s.rules) if (r.name === undefined || globMatch(r.name, name)) out = { ...out, ...r.set };
  return out;
}

export function setGuest(x: Xapi, vm: string, patch: Partial<GuestConfig>): void {
  const s = state(x);
  s.perVm.set(vm, { ...s.perVm.get(vm), ...patch });
  s.changed(vm);
}

/** xapi copies a VM's record for clone/copy/snapshot/revert; the simulated guest (its disks' OS) goes along. */
export function inheritGuest(x: Xapi, from: string, to: string): void {
  const own = state(x).perVm.get(from);
  if (own) state(x).perVm.set(to, { ...own });
  else state(x).perVm.delete(to);
}

export function addGuestRule(x: Xapi, rule: GuestRule): void {
  state(x).rules.push(rule);
}

export function onGuestChange(x: Xapi, fn: (vm: string) => void): void {
  state(x).changed = fn;
}

/** What persistence and restart() keep: per-VM guests of VMs that still exist (rules come from the options). */
export function snapshotGuests(x: Xapi): [string, Partial<GuestConfig>][] {
  return [...state(x).perVm].filter(([vm]) => x.store.has("VM", vm));
}

export function restoreGuests(x: Xapi, snap: [string, Partial<GuestConfig>][] | undefined): void {
  for (const [vm, g] of snap ?? []) state(x).perVm.set(vm, g);
}

const KEYS: Record<string, (v: string) => Partial<GuestConfig>> = {
  agent: (v) => ({ agent: oneOf(v, ["present", "absent"], "agent") === "present" }),
  "boot-delay": (v) => ({ bootDelayMs: ms(v, "boot-delay") }),
  addresses: (v) => ({ addresses: oneOf(v, ["prompt", "late", "never"], "addresses") as GuestConfig["addresses"] }),
  "address-delay": (v) => ({ addressDelayMs: ms(v, "address-delay") }),
  hostname: (v) => ({ hostname: v }),
  shutdown: (v) => ({ shutdown: oneOf(v, ["obey", "ignore", "no-ack"], "shutdown") as GuestConfig["shutdown"] }),
};

function oneOf(v: string, allowed: string[], key: string): string {
  if (!allowed.includes(v)) throw new Error(`guest ${key}: ${JSON.stringify(v)} is not one of ${allowed.join(", ")}`);
  return v;
}

function ms(v: string, key: string): number {
  if (!/^[0-9]+$/.test(v)) throw new Error(`guest ${key}: ${JSON.stringify(v)} is not a number of milliseconds`);
  return Number(v);
}

/** Parses `[NAME_GLOB:]key=value,…` (keys: agent, boot-delay, addresses, address-delay, hostname, shutdown). */
export function parseGuestRule(text: string): GuestRule {
  const colon = text.lastIndexOf(":", text.indexOf("="));
  const name = colon >= 0 ? text.slice(0, colon) : undefined;
  const set: Partial<GuestConfig> = {};
  for (const part of text.slice(colon + 1).split(",")) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq);
    if (eq < 0 || !KEYS[key])
      throw new Error(
        `guest rule ${JSON.stringify(text)}: ${JSON.stringify(part)} is not one of ${Object.keys(KEYS)
          .map((k) => `${k}=…`)
          .join(", ")}`,
      );
    Object.assign(set, KEYS[key](part.slice(eq + 1)));
  }
  return { ...(name ? { name } : {}), set };
}
