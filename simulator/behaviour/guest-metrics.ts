/**
 * The guest agent's reports (xapi_guest_agent.ml, xapi_xenops.ml update_vm): after a start, a guest whose
 * simulated agent is present (guest-agent.ts) reports VM_guest_metrics, then its addresses per VIF
 * (`<dev>/ip`, `<dev>/ipv4/<n>`, `<dev>/ipv6/<n>`) and its hostname (netbios_name.host_name, from
 * data/host_name_dns). Later changes of what the guest would write are written again, as xapi does on
 * every xenstore change of the guest's data.
 */
import { NULL_REF } from "../engine/datamodel";
import { nowDatetime } from "../engine/time";
import { Xapi } from "../engine/xapi";
import { refreshVm } from "./allowed-ops";
import { GuestAddresses, guestOf, onGuestChange } from "./guest-agent";
import { bootNoCloud, readNoCloudAtBoot } from "./cloud-init";
export function clearGuestMetrics(x: Xapi, vm: string): void {
  const row = x.store.get("VM", vm);
  const gm = row.guest_metrics as string;
  if (gm === NULL_REF || !x.store.has("VM_guest_metrics", gm)) return;
  x.store.set("VM", vm, "guest_metrics", NULL_REF);
  x.store.destroy("VM_guest_metrics", gm);
}

function macBytes(mac: string): number[] {
  return mac.split(":").map((h) => parseInt(h, 16));
}

export function ipv4For(mac: string): string {
  const b = macBytes(mac);
  return `10.${b[3]}.${b[4]}.${2 + (b[5] % 253)}`;
}

/** The EUI-64 link-local address of a MAC. */
export function ipv6For(mac: string): string {
  const b = macBytes(mac);
  const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
  return `fe80::${hex(b[0] ^ 0x02, b[1])}:${hex(b[2], 0xff)}:${hex(0xfe, b[3])}:${hex(b[4], b[5])}`;
}

/** Domains whose agent has brought its network up (addresses reported), by VM: the domid. */
const addressesUp = new WeakMap<Xapi, Map<string, number>>();

function up(x: Xapi): Map<string, number> {
  let m = addressesUp.get(x);
  if (!m) addressesUp.set(x, (m = new Map()));
  return m;
}

/** The guest has booted (start, reboot, resume, or unpause of a guest that had not reported yet). */
export function scheduleGuestMetrics(x: Xapi, vm: string): void {
  const row = x.store.get("VM", vm);
  const guest = guestOf(x, vm);
  if (!guest.agent) return;
  const domid = row.domid;
  // cloud-init reads its seed while the guest boots; what the disks hold later does not matter.
  if (bootNoCloud(x, vm) === undefined) readNoCloudAtBoot(x, vm);
  x.later(guest.bootDelayMs ?? x.opts.guestMetricsDelayMs, () => {
    const now = x.store.tryGet("VM", vm);
    // A paused guest's agent does not run: unpause schedules it again (guestUnpaused).
    if (!now || now.power_state !== "Running" || now.domid !== domid || now.guest_metrics !== NULL_REF) return;
    firstReport(x, vm);
  });
}

function firstReport(x: Xapi, vm: string): void {
  const row = x.store.get("VM", vm);
  const guest = guestOf(x, vm);
  if (guest.addresses === "prompt") up(x).set(vm, row.domid as number);
  else up(x).delete(vm);
  const gm = x.store.create("VM_guest_metrics", {
    os_version: { name: String(row.name_label), distro: "linux", major: "6", minor: "1", uname: "6.1.0-sim" },
    // xapi_pv_driver_version.ml reads each of these with int_of_string.
    PV_drivers_version: { major: "9", minor: "4", micro: "0", build: "0" },
    PV_drivers_up_to_date: true,
    PV_drivers_detected: true,
    memory: {},
    disks: {},
    networks: guest.addresses === "prompt" ? networksOf(x, vm) : {},
    netbios_name: netbiosName(x, vm),
    other: {
      "feature-shutdown": "1",
      "feature-poweroff": "1",
      "feature-reboot": "1",
      "feature-suspend": "1",
      "feature-vcpu-hotplug": "1",
      "has-vendor-device": "0",
      "platform-feature-multiprocessor-suspend": "1",
    },
    last_updated: nowDatetime(),
    live: true,
    can_use_hotplug_vbd: "yes",
    can_use_hotplug_vif: "yes",
  });
  x.store.set("VM", vm, "guest_metrics", gm);
  // Xapi_guest_agent.all: a change of `other` makes xapi update the VM's allowed operations.
  refreshVm(x, vm);
  if (guest.addresses !== "late") return;
  // The agent reports addresses once the guest's network is up: a later VM_guest_metrics mod (docs/xapi-semantics.md §6.9.5).
  x.later(
    guest.addressDelayMs ?? Math.max(1, Math.floor((guest.bootDelayMs ?? x.opts.guestMetricsDelayMs) / 4)),
    () => {
      const now = x.store.tryGet("VM", vm);
      if (!now || now.guest_metrics !== gm || !x.store.has("VM_guest_metrics", gm)) return;
      up(x).set(vm, now.domid as number);
      if (now.power_state === "Running") reportAgain(x, vm);
    },
  );
}

/**
 * The agent writes what it sees now; xapi writes the fields that differ (Xapi_guest_agent.all compares with
 * its cache). Nothing while the guest is paused or its agent has not reported yet.
 */
export function reportAgain(x: Xapi, vm: string): void {
  const row = x.store.tryGet("VM", vm);
  if (!row || row.power_state !== "Running" || !guestOf(x, vm).agent) return;
  const gm = row.guest_metrics as string;
  if (!x.store.has("VM_guest_metrics", gm)) return;
  const old = x.store.get("VM_guest_metrics", gm);
  const networks = up(x).get(vm) === row.domid ? networksOf(x, vm) : {};
  const netbios_name = netbiosName(x, vm);
  const patch: Record<string, unknown> = {};
  if (!sameMap(old.networks, networks)) patch.networks = networks;
  if (!sameMap(old.netbios_name, netbios_name)) patch.netbios_name = netbios_name;
  if (Object.keys(patch).length > 0) x.store.update("VM_guest_metrics", gm, { ...patch, last_updated: nowDatetime() });
}

/** After unpause the agent runs again: it reports what changed meanwhile, or boots if it had not reported. */
export function guestUnpaused(x: Xapi, vm: string): void {
  if (x.store.get("VM", vm).guest_metrics === NULL_REF) scheduleGuestMetrics(x, vm);
  else reportAgain(x, vm);
}

function sameMap(a: unknown, b: Record<string, string>): boolean {
  const aa = (a ?? {}) as Record<string, string>;
  const ka = Object.keys(aa);
  return ka.length === Object.keys(b).length && ka.every((k) => aa[k] === b[k]);
}

function netbiosName(x: Xapi, vm: string): Record<string, string> {
  const name = guestOf(x, vm).hostname ?? bootNoCloud(x, vm)?.hostname;
  return name ? { host_name: name } : {};
}

/** What the agent writes under attr/vif/<dev>/ipv4|ipv6/<n>, as xapi maps it (xapi_guest_agent.ml networks). */
function networksOf(x: Xapi, vm: string): Record<string, string> {
  const row = x.store.get("VM", vm);
  const guest = guestOf(x, vm);
  const nocloud = bootNoCloud(x, vm);
  const networks: Record<string, string> = {};
  for (const v of row.VIFs as string[]) {
    const vif = x.store.get("VIF", v);
    if (!vif.currently_attached) continue;
    const d = String(vif.device);
    const mac = String(vif.MAC).toLowerCase();
    const configured: GuestAddresses = guest.networks?.[d] ?? nocloud?.addresses.get(mac) ?? {};
    const ipv4 = configured.ipv4 ?? [ipv4For(mac)];
    // The kernel gives every interface its link-local address, whatever the static configuration.
    const ipv6 = configured.ipv6 ?? [ipv6For(mac)];
    if (ipv4.length > 0) networks[`${d}/ip`] = ipv4[0];
    ipv4.forEach((a, i) => (networks[`${d}/ipv4/${i}`] = a));
    ipv6.forEach((a, i) => (networks[`${d}/ipv6/${i}`] = a));
  }
  return networks;
}

/** sim.guests changed a guest: a running one reports the change (or starts reporting, when its agent appears). */
function guestChanged(x: Xapi, vm: string): void {
  const row = x.store.tryGet("VM", vm);
  if (row?.power_state !== "Running") return;
  if (row.guest_metrics === NULL_REF) scheduleGuestMetrics(x, vm);
  else reportAgain(x, vm);
}

export function register(x: Xapi): void {
  onGuestChange(x, (vm) => guestChanged(x, vm));
}
