/**
 * The simulated guest agent (issue 11 item 5): simulator state behind sim.guests and --guest, reported as xapi
 * reports a guest agent (ocaml/xapi/xapi_guest_agent.ml get_initial_guest_metrics / all, and
 * ocaml/xapi/xapi_xenops.ml update_vm check_guest_agent: every change of the guest's xenstore data is
 * written to VM_guest_metrics).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startSimulator, Simulator } from "../../simulator";
import { parseArgs } from "../../simulator/cli";
import { Client, Rec } from "./helpers/rpc";

let sim: Simulator;
let c: Client;
let debian: string;
let net: string;
beforeAll(async () => {
  sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0, guestMetricsDelayMs: 100 });
  c = await new Client(sim.url).login();
  [debian] = await c.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
  [net] = await c.call<string[]>("network.get_by_name_label", "Pool-wide network associated with eth0");
});
afterAll(() => sim.close());

const NULL = "OpaqueRef:NULL";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out; last value ${JSON.stringify(v)}`);
    await sleep(10);
  }
}

/** A diskless clone of `tpl` with a VIF on device 0: starts at once. */
async function vmFrom(name: string, tpl = debian): Promise<string> {
  const vm = await c.call<string>("VM.clone", tpl, name);
  await c.call("VM.remove_from_other_config", vm, "disks");
  await c.call("VM.provision", vm);
  await vif(vm, "0");
  return vm;
}

function vif(vm: string, device: string): Promise<string> {
  return c.call<string>("VIF.create", {
    device,
    network: net,
    VM: vm,
    MAC: "",
    MTU: 1500,
    other_config: {},
    qos_algorithm_type: "",
    qos_algorithm_params: {},
  });
}

const metricsOf = (vm: string) =>
  waitFor(
    () => c.call<string>("VM.get_guest_metrics", vm),
    (g) => g !== NULL,
  );
const gmRecord = (gm: string) => c.call<Rec>("VM_guest_metrics.get_record", gm);
const networksOf = (gm: string, ok: (n: Record<string, string>) => boolean) =>
  waitFor(() => c.call<Record<string, string>>("VM_guest_metrics.get_networks", gm), ok);

describe("the guest agent is simulator state", () => {
  it("no record carries a simulator key, and a client that writes other_config whole keeps the agent", async () => {
    const vm = await vmFrom("whole-other-config");
    await c.call("VM.set_other_config", vm, { owner: "me" });
    const all = await c.call<Record<string, Rec>>("VM.get_all_records");
    for (const r of Object.values(all)) expect(Object.keys(r.other_config as object).join()).not.toMatch(/xapi-sim/);
    await c.call("VM.start", vm, false, false);
    expect((await gmRecord(await metricsOf(vm))).PV_drivers_detected).toBe(true);
    await c.call("VM.hard_shutdown", vm);
  });

  it("is seeded per template: every default template has an agent except Other install media", async () => {
    expect(sim.guests.get("Debian Bookworm 12").agent).toBe(true);
    expect(sim.guests.get("Windows Server 2022 (64-bit)").agent).toBe(true);
    expect(sim.guests.get("Other install media").agent).toBe(false);
    // A VM made by VM.create has no OS yet, so no agent.
    const made = await c.call<string>("VM.create", {
      name_label: "from-scratch",
      user_version: 1,
      is_a_template: false,
      affinity: NULL,
      memory_static_max: 256 * 1024 * 1024,
      memory_dynamic_max: 256 * 1024 * 1024,
      memory_dynamic_min: 256 * 1024 * 1024,
      memory_static_min: 256 * 1024 * 1024,
      VCPUs_params: {},
      VCPUs_max: 1,
      VCPUs_at_startup: 1,
      actions_after_shutdown: "destroy",
      actions_after_reboot: "restart",
      actions_after_crash: "restart",
      PV_bootloader: "",
      PV_kernel: "",
      PV_ramdisk: "",
      PV_args: "",
      PV_bootloader_args: "",
      PV_legacy_args: "",
      HVM_boot_policy: "BIOS order",
      HVM_boot_params: {},
      platform: {},
      PCI_bus: "",
      other_config: {},
      recommendations: "",
    });
    expect(sim.guests.get(made).agent).toBe(false);
  });

  it("is inherited by clones, copies and snapshots (xapi_vm_clone.ml copy_vm_record copies the VM)", async () => {
    const vm = await vmFrom("parent-guest");
    sim.guests.set(vm, { hostname: "parent", shutdown: "ignore", bootDelayMs: 7 });
    const uuid = await c.call<string>("VM.get_uuid", vm);
    expect(sim.guests.get(uuid)).toMatchObject({ hostname: "parent", shutdown: "ignore", bootDelayMs: 7 });
    const clone = await c.call<string>("VM.clone", vm, "child-clone");
    const [sr] = await c.call<string[]>("SR.get_by_name_label", "Local storage");
    const copy = await c.call<string>("VM.copy", vm, "child-copy", sr);
    const snap = await c.call<string>("VM.snapshot", vm, "child-snap");
    for (const child of [clone, copy, snap]) expect(sim.guests.get(child)).toEqual(sim.guests.get(vm));
    // The child's guest is its own from then on.
    sim.guests.set(clone, { hostname: "child" });
    expect(sim.guests.get(vm).hostname).toBe("parent");
  });
});

describe("agent behaviour, controlled per VM", () => {
  it("agent absent: the guest never reports", async () => {
    const vm = await vmFrom("no-agent");
    sim.guests.set(vm, { agent: false });
    await c.call("VM.start", vm, false, false);
    await sleep(400);
    expect(await c.call("VM.get_guest_metrics", vm)).toBe(NULL);
    // The agent installed while the guest runs: it starts reporting.
    sim.guests.set(vm, { agent: true, bootDelayMs: 10 });
    await metricsOf(vm);
    await c.call("VM.hard_shutdown", vm);
  });

  it("boot delay: the first report comes that long after the start", async () => {
    const vm = await vmFrom("slow-boot");
    sim.guests.set(vm, { bootDelayMs: 600 });
    await c.call("VM.start", vm, false, false);
    const t0 = Date.now();
    await sleep(300);
    expect(await c.call("VM.get_guest_metrics", vm)).toBe(NULL);
    await metricsOf(vm);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    await c.call("VM.hard_shutdown", vm);
  });

  it("addresses prompt (with the first report), late (a later mod) or never", async () => {
    const prompt = await vmFrom("addr-prompt");
    const late = await vmFrom("addr-late");
    const never = await vmFrom("addr-never");
    sim.guests.set(prompt, { addresses: "prompt" });
    sim.guests.set(late, { addresses: "late", addressDelayMs: 400 });
    sim.guests.set(never, { addresses: "never" });
    for (const vm of [prompt, late, never]) await c.call("VM.start", vm, false, false);
    expect(Object.keys((await gmRecord(await metricsOf(prompt))).networks as object)).toContain("0/ip");
    const lateGm = await metricsOf(late);
    expect((await gmRecord(lateGm)).networks).toEqual({});
    const nets = await networksOf(lateGm, (n) => "0/ip" in n);
    expect(nets["0/ipv4/0"]).toBe(nets["0/ip"]);
    const neverGm = await metricsOf(never);
    await sleep(600);
    expect((await gmRecord(neverGm)).networks).toEqual({});
    for (const vm of [prompt, late, never]) await c.call("VM.hard_shutdown", vm);
  });

  it("addresses changed later: the running guest reports the new ones at once", async () => {
    const vm = await vmFrom("readdressed");
    sim.guests.set(vm, { addresses: "prompt" });
    await c.call("VM.start", vm, false, false);
    const gm = await metricsOf(vm);
    await networksOf(gm, (n) => n["0/ip"]?.startsWith("10."));
    sim.guests.set(vm, { networks: { "0": { ipv4: ["192.0.2.10", "192.0.2.11"], ipv6: ["2001:db8::10"] } } });
    expect(await c.call("VM_guest_metrics.get_networks", gm)).toEqual({
      "0/ip": "192.0.2.10",
      "0/ipv4/0": "192.0.2.10",
      "0/ipv4/1": "192.0.2.11",
      "0/ipv6/0": "2001:db8::10",
    });
    await c.call("VM.hard_shutdown", vm);
  });

  it("hostname: the agent's data/host_name_dns shows as netbios_name.host_name (xapi_guest_agent.ml netbios_name)", async () => {
    const vm = await vmFrom("named-guest");
    sim.guests.set(vm, { hostname: "web-01" });
    await c.call("VM.start", vm, false, false);
    const gm = await metricsOf(vm);
    expect((await gmRecord(gm)).netbios_name).toEqual({ host_name: "web-01" });
    sim.guests.set(vm, { hostname: "web-02" });
    expect(await c.call("VM_guest_metrics.get_netbios_name", gm)).toEqual({ host_name: "web-02" });
    await c.call("VM.hard_shutdown", vm);
  });

  it("PV_drivers_version holds numbers, as xapi_pv_driver_version.ml of_guest_metrics parses them (int_of_string)", async () => {
    const vm = await vmFrom("drivers");
    await c.call("VM.start", vm, false, false);
    const v = (await gmRecord(await metricsOf(vm))).PV_drivers_version as Record<string, string>;
    expect(Object.keys(v).sort()).toEqual(["build", "major", "micro", "minor"]);
    for (const n of Object.values(v)) expect(n).toMatch(/^-?[0-9]+$/);
    await c.call("VM.hard_shutdown", vm);
  });
});

describe("networks are reported again when the guest's interfaces change", () => {
  it("after VIF.plug and VIF.unplug", async () => {
    const vm = await vmFrom("hotplug-nics");
    sim.guests.set(vm, { addresses: "prompt" });
    await c.call("VM.start", vm, false, false);
    const gm = await metricsOf(vm);
    await networksOf(gm, (n) => "0/ip" in n);
    const second = await vif(vm, "1");
    await c.call("VIF.plug", second);
    const both = await c.call<Record<string, string>>("VM_guest_metrics.get_networks", gm);
    expect(Object.keys(both).filter((k) => k.endsWith("/ip"))).toEqual(["0/ip", "1/ip"]);
    await c.call("VIF.unplug", second);
    const one = await c.call<Record<string, string>>("VM_guest_metrics.get_networks", gm);
    expect(Object.keys(one).filter((k) => k.endsWith("/ip"))).toEqual(["0/ip"]);
    await c.call("VM.hard_shutdown", vm);
  });

  it("after unpause: a paused guest reports nothing, and reports what changed once it runs again", async () => {
    const vm = await vmFrom("paused-guest");
    sim.guests.set(vm, { addresses: "prompt", bootDelayMs: 50 });
    // Started paused, the guest has not booted: its agent reports only after unpause.
    await c.call("VM.start", vm, true, false);
    await sleep(300);
    expect(await c.call("VM.get_guest_metrics", vm)).toBe(NULL);
    await c.call("VM.unpause", vm);
    const gm = await metricsOf(vm);
    await networksOf(gm, (n) => "0/ip" in n);
    await c.call("VM.pause", vm);
    sim.guests.set(vm, { networks: { "0": { ipv4: ["198.51.100.7"] } } });
    expect((await c.call<Record<string, string>>("VM_guest_metrics.get_networks", gm))["0/ip"]).not.toBe(
      "198.51.100.7",
    );
    await c.call("VM.unpause", vm);
    expect((await c.call<Record<string, string>>("VM_guest_metrics.get_networks", gm))["0/ip"]).toBe("198.51.100.7");
    await c.call("VM.hard_shutdown", vm);
  });
});

describe("rules and the command line", () => {
  it("--guest [NAME_GLOB:]key=value,… parses into rules; bad keys and values are refused with what is allowed", () => {
    expect(parseArgs(["--guest", "web-*:shutdown=ignore,addresses=never", "--guest", "agent=absent"])).toEqual({
      guests: ["web-*:shutdown=ignore,addresses=never", "agent=absent"],
    });
    expect(() => sim.guests.rule("db:shutdown=maybe")).toThrow(/shutdown: "maybe" is not one of obey, ignore, no-ack/);
    expect(() => sim.guests.rule("db:colour=blue")).toThrow(/agent=…, boot-delay=…/);
  });

  it("a rule applies to every VM whose name matches, and wins over per-VM settings", async () => {
    const s = await startSimulator({
      password: "pw",
      loginFailureDelayMs: 0,
      guests: ["lab-*:hostname=from-rule,agent=absent"],
    });
    try {
      const cc = await new Client(s.url).login();
      const [tpl] = await cc.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
      const lab = await cc.call<string>("VM.clone", tpl, "lab-1");
      const prod = await cc.call<string>("VM.clone", tpl, "prod-1");
      s.guests.set(lab, { agent: true });
      expect(s.guests.get(lab)).toMatchObject({ hostname: "from-rule", agent: false });
      expect(s.guests.get(prod)).toMatchObject({ agent: true });
      expect(s.guests.get(prod).hostname).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it("guests survive restart() and --state", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "guests-"));
    const statePath = path.join(dir, "state.json");
    const s = await startSimulator({ password: "pw", loginFailureDelayMs: 0, statePath });
    try {
      const cc = await new Client(s.url).login();
      const [tpl] = await cc.call<string[]>("VM.get_by_name_label", "Debian Bookworm 12");
      const vm = await cc.call<string>("VM.clone", tpl, "kept");
      s.guests.set(vm, { hostname: "kept", shutdown: "no-ack" });
      await s.restart();
      expect(s.guests.get(vm)).toMatchObject({ agent: true, hostname: "kept", shutdown: "no-ack" });
    } finally {
      await s.close();
    }
    const again = await startSimulator({ password: "pw", loginFailureDelayMs: 0, statePath });
    try {
      expect(again.guests.get("kept")).toMatchObject({ agent: true, hostname: "kept", shutdown: "no-ack" });
      expect(again.guests.get("Other install media").agent).toBe(false);
    } finally {
      await again.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
