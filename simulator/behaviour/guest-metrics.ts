/**
 * The guest agent: after a start, a VM whose other_config says it has tools reports VM_guest_metrics,
 * then its addresses per VIF (`<dev>/ip`, `<dev>/ipv4/0`, `<dev>/ipv6/0`, deterministic). Others never report.
 */
import { NULL_REF } from "../engine/datamodel";
import { nowDatetime } from "../engine/time";
import { Xapi } from "../engine/xapi";

export const TOOLS_KEY = "xapi-sim:guest-tools";

export function hasTools(other: Record<string, string>): boolean {
  return other[TOOLS_KEY] === "true";
}

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

export function scheduleGuestMetrics(x: Xapi, vm: string): void {
  const row = x.store.get("VM", vm);
  if (!hasTools(row.other_config as Record<string, string>)) return;
  const domid = row.domid;
  x.later(x.opts.guestMetricsDelayMs, () => {
    const now = x.store.tryGet("VM", vm);
    if (!now || now.power_state !== "Running" || now.domid !== domid || now.guest_metrics !== NULL_REF) return;
    const gm = x.store.create("VM_guest_metrics", {
      os_version: { name: String(now.name_label), distro: "linux", major: "6", minor: "1", uname: "6.1.0-sim" },
      PV_drivers_version: { major: "9", minor: "4", micro: "0", build: "sim" },
      PV_drivers_up_to_date: true,
      PV_drivers_detected: true,
      memory: {},
      disks: {},
      networks: {},
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
    // The agent reports addresses once the guest's network is up: a later VM_guest_metrics mod (SEMANTICS §6.9.5).
    x.later(Math.max(1, Math.floor(x.opts.guestMetricsDelayMs / 4)), () => {
      const row = x.store.tryGet("VM", vm);
      if (!row || row.guest_metrics !== gm || !x.store.has("VM_guest_metrics", gm)) return;
      x.store.update("VM_guest_metrics", gm, {
        networks: networksOf(x, row.VIFs as string[]),
        last_updated: nowDatetime(),
      });
    });
  });
}

function networksOf(x: Xapi, vifs: string[]): Record<string, string> {
  const networks: Record<string, string> = {};
  for (const v of vifs) {
    const vif = x.store.get("VIF", v);
    if (!vif.currently_attached) continue;
    const d = String(vif.device);
    const ip = ipv4For(String(vif.MAC));
    networks[`${d}/ip`] = ip;
    networks[`${d}/ipv4/0`] = ip;
    networks[`${d}/ipv6/0`] = ipv6For(String(vif.MAC));
  }
  return networks;
}
