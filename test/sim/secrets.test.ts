// Secrets named in device_config, as xapi handles them (xapi_secret.ml, xapi_pbd.ml,
// xapi_sr.ml, message_forwarding.ml): plain passwords are moved into secrets, each PBD
// gets its own copy, and destroying a PBD (also through SR.forget / SR.destroy) destroys it.
import { Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError } from "./helpers/rpc";

let sim: Simulator;
let c: Client;
let master: string;
let other: string;
beforeAll(async () => {
  ({ sim, c } = await startWithClient({ hosts: 2 }));
  const [pool] = await c.call<string[]>("pool.get_all");
  master = await c.call<string>("pool.get_master", pool);
  other = (await c.call<string[]>("host.get_all")).find((h) => h !== master)!;
});
afterAll(() => sim.close());

const secretCount = async () => (await c.call<string[]>("secret.get_all")).length;
const newSecret = async (value: string) =>
  c.call<string>("secret.get_uuid", await c.call<string>("secret.create", { value, other_config: {} }));
const valueOf = async (uuid: string) =>
  c.call<string>("secret.get_value", await c.call<string>("secret.get_by_uuid", uuid));
const exists = async (uuid: string) =>
  c.call("secret.get_by_uuid", uuid).then(
    () => true,
    () => false,
  );
const dcOf = (pbd: string) => c.call<Record<string, string>>("PBD.get_device_config", pbd);
let n = 0;
const share = () => `//192.0.2.30/secrets-${++n}`;
const introduce = () => c.call<string>("SR.introduce", "", `smb-${n}`, "", "smb", "user", true, {});
const pbdCreate = (sr: string, host: string, device_config: Record<string, string>) =>
  c.call<string>("PBD.create", { host, SR: sr, device_config, other_config: {} });
const srCreate = (device_config: Record<string, string>) =>
  c.call<string>("SR.create", master, device_config, 0, `smb-${n}`, "", "smb", "user", true, {});

describe("PBD.create", () => {
  it("gives every PBD its own copy of each *password_secret, leaving the caller's secret alone", async () => {
    const mine = await newSecret("pw-1");
    const sr = await introduce();
    const server = share();
    const a = await pbdCreate(sr, master, { server, username: "u", password_secret: mine });
    const b = await pbdCreate(sr, other, { server, username: "u", password_secret: mine });
    const [da, db] = [await dcOf(a), await dcOf(b)];
    expect(da).toMatchObject({ server, username: "u" });
    expect(new Set([mine, da.password_secret, db.password_secret]).size).toBe(3);
    expect(await valueOf(da.password_secret)).toBe("pw-1");
    expect(await valueOf(db.password_secret)).toBe("pw-1");
    // The copies are independent: changing one changes neither the other nor the original.
    await c.call("secret.set_value", await c.call<string>("secret.get_by_uuid", da.password_secret), "pw-2");
    expect(await valueOf(db.password_secret)).toBe("pw-1");
    expect(await valueOf(mine)).toBe("pw-1");
    await c.call("SR.forget", sr);
  });

  it("fails with UUID_INVALID for an unknown secret uuid, making no PBD", async () => {
    const sr = await introduce();
    const missing = "00000000-0000-4000-8000-00000000dead";
    await expectError(pbdCreate(sr, master, { server: share(), password_secret: missing }), "UUID_INVALID", [
      "secret",
      missing,
    ]);
    expect(await c.call("SR.get_PBDs", sr)).toEqual([]);
    await c.call("SR.forget", sr);
  });

  it("moves a plain *password key into a secret, which is then copied (the moved one stays behind, as on xapi)", async () => {
    const before = await secretCount();
    const sr = await introduce();
    const pbd = await pbdCreate(sr, master, { server: share(), password: "plain-pw" });
    const dc = await dcOf(pbd);
    expect(dc).not.toHaveProperty("password");
    expect(await valueOf(dc.password_secret)).toBe("plain-pw");
    expect(await secretCount()).toBe(before + 2);
    await c.call("PBD.destroy", pbd);
    expect(await exists(dc.password_secret)).toBe(false);
    expect(await secretCount()).toBe(before + 1);
    await c.call("SR.forget", sr);
  });

  it("PBD.destroy destroys the secrets its device_config names, and only those", async () => {
    const mine = await newSecret("pw-d");
    const sr = await introduce();
    const pbd = await pbdCreate(sr, master, { server: share(), password_secret: mine });
    const copy = (await dcOf(pbd)).password_secret;
    await c.call("PBD.destroy", pbd);
    expect(await exists(copy)).toBe(false);
    expect(await exists(mine)).toBe(true);
    await c.call("SR.forget", sr);
  });
});

describe("SR.create", () => {
  it("copies the secret for each PBD, then gives every PBD the master PBD's device_config", async () => {
    const mine = await newSecret("pw-sr");
    const before = await secretCount();
    const sr = await srCreate({ server: share(), username: "u", password_secret: mine });
    const pbds = await c.call<string[]>("SR.get_PBDs", sr);
    expect(pbds).toHaveLength(2);
    const dcs = await Promise.all(pbds.map(dcOf));
    // Storage_access.create_sr's device_config is set on all PBDs: they share the master PBD's copy,
    // and the copy made for the other PBD is left unreferenced (as on xapi).
    expect(dcs[0].password_secret).toBe(dcs[1].password_secret);
    expect(dcs[0].password_secret).not.toBe(mine);
    expect(await valueOf(dcs[0].password_secret)).toBe("pw-sr");
    expect(await secretCount()).toBe(before + 2);
    for (const p of pbds) await c.call("PBD.unplug", p);
    // SR.forget destroys each PBD with Xapi_pbd.destroy: the shared copy goes (once), the caller's stays.
    await c.call("SR.forget", sr);
    expect(await exists(dcs[0].password_secret)).toBe(false);
    expect(await exists(mine)).toBe(true);
    expect(await secretCount()).toBe(before + 1);
  });

  it("moves a plain password into a secret first", async () => {
    const sr = await srCreate({ server: share(), password: "plain-sr" });
    const [pbd] = await c.call<string[]>("SR.get_PBDs", sr);
    const dc = await dcOf(pbd);
    expect(dc).not.toHaveProperty("password");
    expect(await valueOf(dc.password_secret)).toBe("plain-sr");
    for (const p of await c.call<string[]>("SR.get_PBDs", sr)) await c.call("PBD.unplug", p);
    await c.call("SR.destroy", sr);
    expect(await exists(dc.password_secret)).toBe(false);
  });

  it("SR.destroy destroys the PBDs' secrets", async () => {
    const mine = await newSecret("pw-destroy");
    const sr = await srCreate({ server: share(), password_secret: mine });
    const pbds = await c.call<string[]>("SR.get_PBDs", sr);
    const copies = [...new Set((await Promise.all(pbds.map(dcOf))).map((d) => d.password_secret))];
    for (const p of pbds) await c.call("PBD.unplug", p);
    await c.call("SR.destroy", sr);
    for (const s of copies) expect(await exists(s)).toBe(false);
    expect(await exists(mine)).toBe(true);
  });

  it("with an unknown secret uuid fails with UUID_INVALID and, as on xapi, leaves the SR record without PBDs", async () => {
    const missing = "00000000-0000-4000-8000-00000000beef";
    await expectError(srCreate({ server: share(), password_secret: missing }), "UUID_INVALID", ["secret", missing]);
    const [sr] = await c.call<string[]>("SR.get_by_name_label", `smb-${n}`);
    expect(await c.call("SR.get_PBDs", sr)).toEqual([]);
    await c.call("SR.forget", sr);
  });

  it("when the driver refuses, removes the SR and PBD records but not the secrets copied for them (as on xapi)", async () => {
    const mine = await newSecret("pw-bad");
    const before = await secretCount();
    await expectError(srCreate({ server: "not-a-share", password_secret: mine }), "SR_BACKEND_FAILURE_111");
    expect(await c.call("SR.get_by_name_label", `smb-${n}`)).toEqual([]);
    expect(await secretCount()).toBe(before + 2);
  });
});
