// Sr passwords against a two-host simulated pool whose secrets behave as xapi's: every PBD
// holds its own copy of a secret, so a rotation must reach the secret each PBD names.
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";

const { Sr: sr } = resourceKinds;

let lab: SimulatedPool;
beforeAll(async () => {
  lab = await startPool("s3cret-pw", { hosts: 2 });
});
afterAll(() => stopPool(lab));

const { createWith, updateWith } = resourceSteps(() => lab.ctx);
const smb = (password: string, extra: Record<string, unknown> = {}) => ({
  type: "smb",
  name: "share",
  deviceConfig: { server: "//192.0.2.40/vms", username: "svc", password },
  ...extra,
});
const secretsOfPbds = async (id: string) => {
  const ref = await lab.xapi.call<string>("SR.get_by_uuid", id);
  const out: string[] = [];
  for (const p of await lab.xapi.call<string[]>("SR.get_PBDs", ref))
    out.push((await lab.xapi.call<Record<string, string>>("PBD.get_device_config", p)).password_secret);
  return out;
};
const valueOf = async (uuid: string) =>
  lab.xapi.call<string>("secret.get_value", await lab.xapi.call<string>("secret.get_by_uuid", uuid));
const exists = (uuid: string) =>
  lab.xapi.call("secret.get_by_uuid", uuid).then(
    () => true,
    () => false,
  );
const allSecrets = async () =>
  new Set(
    Object.values(await lab.xapi.call<Record<string, { uuid: string }>>("secret.get_all_records")).map((s) => s.uuid),
  );

describe("Sr passwords", () => {
  it("created SR: a rotation reaches every PBD's secret, and the provider keeps no secret of its own", async () => {
    const before = await allSecrets();
    const { id, outs, checked } = await createWith(sr, smb("first-pw"));
    expect(outs.secrets).toEqual({});
    const named = await secretsOfPbds(id);
    expect(named).toHaveLength(2);
    for (const s of named) expect(await valueOf(s)).toBe("first-pw");
    // Of the secrets made, only those the PBDs name remain: the copy xapi's SR.create leaves unreferenced is destroyed.
    const made = [...(await allSecrets())].filter((s) => !before.has(s));
    expect(made.sort()).toEqual([...new Set(named)].sort());

    // A refresh leaves outputs and inputs as they were: no diff.
    const refreshed = await sr.read(id, outs, lab.ctx);
    expect(refreshed.props?.secrets).toEqual({});
    expect(await sr.diff(id, refreshed.props!, checked)).toMatchObject({ changes: false });

    const rotate = await updateWith(sr, id, outs, smb("second-pw"));
    expect(rotate.diff).toMatchObject({ changes: true, replaces: [] });
    const { outs: after } = await rotate.run();
    expect(after.secrets).toEqual({});
    for (const s of await secretsOfPbds(id)) expect(await valueOf(s)).toBe("second-pw");

    await sr.delete(id, after, lab.ctx);
    for (const s of named) expect(await exists(s)).toBe(false);
  });

  it("attached SR: each PBD's own copy gets the new password; delete removes them all", async () => {
    const made = await createWith(sr, smb("attach-pw", { name: "to-attach" }));
    await sr.delete(made.id, made.outs, lab.ctx); // forgotten, the data stays on the share
    const { id, outs } = await createWith(sr, smb("attach-pw", { mode: "attach", existingUuid: made.id }));
    expect(outs.secrets).toEqual({});
    const named = await secretsOfPbds(id);
    expect(new Set(named).size).toBe(2);
    const { outs: after } = await (
      await updateWith(sr, id, outs, smb("attach-pw-2", { mode: "attach", existingUuid: made.id }))
    ).run();
    for (const s of named) expect(await valueOf(s)).toBe("attach-pw-2");
    await sr.delete(id, after, lab.ctx);
    for (const s of named) expect(await exists(s)).toBe(false);
  });

  it("a create the driver refuses leaves no copy of the password in the pool (xapi's SR.create leaves them)", async () => {
    const before = await allSecrets();
    const bad = {
      type: "smb",
      name: "bad-share",
      deviceConfig: { server: "not-a-share-path", username: "svc", password: "refused-pw" },
    };
    const checked = await sr.check({}, bad, lab.ctx);
    expect(checked.failures).toBeUndefined();
    await expect(sr.create(checked.inputs!, lab.ctx)).rejects.toThrow(/SR_BACKEND_FAILURE_111/);
    const left = [...(await allSecrets())].filter((s) => !before.has(s));
    expect(left).toEqual([]);
  });

  it("refuses a rotation when a PBD's secret is gone, writing none", async () => {
    const made = await createWith(sr, smb("gone-pw", { name: "gone" }));
    await sr.delete(made.id, made.outs, lab.ctx);
    const { id, outs } = await createWith(sr, smb("gone-pw", { name: "gone", mode: "attach", existingUuid: made.id }));
    const [first, second] = await secretsOfPbds(id);
    await lab.xapi.call("secret.destroy", await lab.xapi.call<string>("secret.get_by_uuid", second));
    const rotate = await updateWith(
      sr,
      id,
      outs,
      smb("gone-pw-2", { name: "gone", mode: "attach", existingUuid: made.id }),
    );
    await expect(rotate.run()).rejects.toThrow(
      `deviceConfig.password: the XAPI secret ${second} holding this password`,
    );
    expect(await valueOf(first)).toBe("gone-pw");
    await sr.delete(id, outs, lab.ctx);
  });

  it("state from before: the provider's old secret is destroyed at the next update once no PBD names it", async () => {
    const { id, outs } = await createWith(sr, smb("legacy-pw", { name: "legacy" }));
    // What older versions recorded: a secret of the provider's own, which the PBDs only copied.
    const old = await lab.xapi.call<string>(
      "secret.get_uuid",
      await lab.xapi.call<string>("secret.create", { value: "legacy-pw", other_config: {} }),
    );
    const legacy = { ...outs, secrets: { password: old } };
    const refreshed = await sr.read(id, legacy, lab.ctx);
    expect(refreshed.props?.secrets).toEqual({ password: old });
    const { outs: after } = await (await updateWith(sr, id, legacy, smb("legacy-pw-2", { name: "legacy" }))).run();
    expect(after.secrets).toEqual({});
    expect(await exists(old)).toBe(false);
    for (const s of await secretsOfPbds(id)) expect(await valueOf(s)).toBe("legacy-pw-2");
    await sr.delete(id, after, lab.ctx);
  });

  it("delete with state from before destroys the provider's old secret too", async () => {
    const { id, outs } = await createWith(sr, smb("legacy-del", { name: "legacy-del" }));
    const old = await lab.xapi.call<string>(
      "secret.get_uuid",
      await lab.xapi.call<string>("secret.create", { value: "legacy-del", other_config: {} }),
    );
    await sr.delete(id, { ...outs, secrets: { password: old } }, lab.ctx);
    expect(await exists(old)).toBe(false);
  });
});
