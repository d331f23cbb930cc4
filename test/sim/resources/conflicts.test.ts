// Issue 9 item 2: conflicts a read of the pool can predict fail check() (preview) naming the field, the NIC and the
// network holding it, instead of a raw XAPI error at `up`. The XAPI refusals predicted, as the simulator makes them
// after xapi: PIF_VLAN_EXISTS and CANNOT_ADD_VLAN_TO_BOND_SLAVE (ocaml/xapi/xapi_vlan.ml `create`), PIF_ALREADY_BONDED
// (ocaml/xapi/xapi_bond.ml `create`, via xapi_pif_helpers.ml `bond_is_allowed_on_pif`).
import type { ResourceContext } from "../../../provider/resources/contract";
import { forgetClaims } from "../../../provider/resources/common/claims";
import { resourceKinds } from "../../../provider/resources/registry";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";

const { Network: network, Sr: sr } = resourceKinds;

let lab: SimulatedPool | undefined;
let ctx: ResourceContext;
const { createWith } = resourceSteps(() => ctx);

beforeAll(async () => {
  lab = await startPool("conflict-pw", { hosts: 2 });
  ({ ctx } = lab);
});
afterAll(() => stopPool(lab));
// Each case is a program of its own: claims last one deployment.
beforeEach(() => forgetClaims());

const reasons = (r: { failures?: Array<{ reason: string }> }) => (r.failures ?? []).map((f) => f.reason);

describe("conflicts predicted at preview", () => {
  it("a VLAN tag already in use on the NIC names vlan, the NIC and the network holding it", async () => {
    const held = await createWith(network, { name: "storage", vlan: 30, nic: "eth1", identity: "lab/dev/storage" });
    forgetClaims(); // another program
    const r = await network.check({}, { name: "again", vlan: 30, nic: "NIC 1", identity: "other/dev/again" }, ctx);
    expect(r.inputs).toBeUndefined();
    expect(reasons(r)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^vlan: tag 30 is already in use on eth1 of host .*, by network ` +
            `"storage" \\(${held.id}\\) \\(PIF_VLAN_EXISTS\\); choose another tag, or take that network over ` +
            `with adopt: "${held.id}"$`,
        ),
      ),
    ]);
    // The resource that made it is no conflict with itself (an update or a refresh).
    const own = await network.check(held.checked, { ...held.checked }, ctx);
    expect(own.failures).toBeUndefined();
    await network.delete(held.id, held.outs, ctx);
  });

  it("a bond over NICs already bonded names bond.nics, the NIC and the bond's network", async () => {
    const bond = await createWith(network, {
      name: "guests",
      bond: { nics: ["eth2", "eth3"] },
      identity: "lab/dev/guests",
    });
    forgetClaims();
    const again = await network.check({}, { name: "b2", bond: { nics: ["eth3", "eth1"] }, identity: "x/y/b2" }, ctx);
    expect(reasons(again)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^bond\\.nics: eth3 of host .* is already bonded, in the bond of network "guests" \\(${bond.id}\\) \\(PIF_ALREADY_BONDED\\)`,
        ),
      ),
    ]);
    const vlan = await network.check({}, { name: "v", vlan: 12, nic: "eth2", identity: "x/y/v" }, ctx);
    expect(reasons(vlan)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^nic: eth2 of host .* is a member of the bond of network "guests" \\(${bond.id}\\) \\(CANNOT_ADD_VLAN_TO_BOND_SLAVE\\)`,
        ),
      ),
    ]);
    expect((await network.check(bond.checked, { ...bond.checked }, ctx)).failures).toBeUndefined();
    await network.delete(bond.id, bond.outs, ctx);
  });

  it("a network carrying the resource's own identity is no conflict, even with no previous inputs (state lost)", async () => {
    const vlan = await createWith(network, { name: "mine", vlan: 50, nic: "eth1", identity: "lab/dev/mine" });
    const bond = await createWith(network, {
      name: "pair",
      bond: { nics: ["eth2", "eth3"] },
      identity: "lab/dev/pair",
    });
    forgetClaims();
    const again = { name: "mine", vlan: 50, nic: "eth1", identity: "lab/dev/mine" };
    expect((await network.check({}, again, ctx)).failures).toBeUndefined();
    const pair = { name: "pair", bond: { nics: ["eth3", "eth2"] }, identity: "lab/dev/pair" };
    expect((await network.check({}, pair, ctx)).failures).toBeUndefined();
    forgetClaims();
    // Another identity is refused, naming the network.
    expect(reasons(await network.check({}, { ...again, identity: "lab/dev/other" }, ctx))).toEqual([
      expect.stringMatching(new RegExp(`^vlan: tag 50 is already in use on eth1 .*"mine" \\(${vlan.id}\\)`)),
    ]);
    expect(reasons(await network.check({}, { ...pair, identity: "lab/dev/other" }, ctx))).toEqual([
      expect.stringMatching(new RegExp(`^bond\\.nics: eth2 of host .* in the bond of network "pair" \\(${bond.id}\\)`)),
    ]);
    await network.delete(vlan.id, vlan.outs, ctx);
    await network.delete(bond.id, bond.outs, ctx);
  });

  it("one program making the same VLAN twice, or bonding a NIC twice, fails the second resource's check", async () => {
    const first = await network.check({}, { name: "a", vlan: 40, nic: "eth1", identity: "p/s/a" }, ctx);
    expect(first.failures).toBeUndefined();
    const second = await network.check({}, { name: "b", vlan: 40, nic: "eth1", identity: "p/s/b" }, ctx);
    expect(reasons(second)).toEqual([
      'vlan: Network resource "a" of this program already makes VLAN 40 on eth1; a NIC carries a tag once',
    ]);
    const otherTag = await network.check({}, { name: "c", vlan: 41, nic: "eth1", identity: "p/s/c" }, ctx);
    expect(otherTag.failures).toBeUndefined();
    const bond = await network.check({}, { name: "d", bond: { nics: ["eth1", "eth2"] }, identity: "p/s/d" }, ctx);
    expect(reasons(bond)).toEqual([
      expect.stringMatching(/^bond\.nics: Network resource "a" of this program puts a VLAN on eth1/),
    ]);
    const b1 = await network.check({}, { name: "e", bond: { nics: ["eth2", "eth3"] }, identity: "p/s/e" }, ctx);
    expect(b1.failures).toBeUndefined();
    const b2 = await network.check({}, { name: "f", bond: { nics: ["eth3", "eth0"] }, identity: "p/s/f" }, ctx);
    expect(reasons(b2)).toEqual([
      'bond.nics: Network resource "e" of this program also bonds eth3; a NIC can be in one bond only',
    ]);
  });

  it("an SR name the program owns twice fails the second Sr's check", async () => {
    const nfs = (serverpath: string) => ({
      type: "nfs",
      name: "vm-store",
      deviceConfig: { server: "192.0.2.1", serverpath },
    });
    expect((await sr.check({}, { ...nfs("/a"), identity: "p/s/store-a" }, ctx)).failures).toBeUndefined();
    // The same resource checked again (preview, then up) is no conflict.
    expect((await sr.check({}, { ...nfs("/a"), identity: "p/s/store-a" }, ctx)).failures).toBeUndefined();
    const r = await sr.check({}, { ...nfs("/b"), identity: "p/s/store-b" }, ctx);
    expect(reasons(r)).toEqual([
      'name: Sr resource "store-a" of this program already names its SR "vm-store"; give each SR its own name',
    ]);
  });

  it("a local SR on a device another SR of that host uses is predicted (sm util.test_hostPBD_devs, SR_BACKEND_FAILURE_16)", async () => {
    const made = await createWith(sr, { type: "ext", name: "local-a", deviceConfig: { device: "/dev/sdm" } });
    const r = await sr.check({}, { type: "lvm", name: "local-b", deviceConfig: { device: "/dev/sdm" } }, ctx);
    expect(reasons(r)).toEqual([
      `deviceConfig.device: /dev/sdm is already used by SR "local-a" (${made.id}) on that host ` +
        `(SR_BACKEND_FAILURE_16, SRInUse); use another device, or take that SR over with adopt: "${made.id}"`,
    ]);
    // The SR that uses it is no conflict with itself.
    expect((await sr.check(made.checked, { ...made.checked }, ctx)).failures).toBeUndefined();
    await sr.delete(made.id, made.outs, ctx);
  });
});
