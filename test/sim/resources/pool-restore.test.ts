// Issue 9 item 1: a destroy must not leave the pool broken. The Pool resource records what the pool had before it
// managed a field and puts it back on delete; an SR's delete empties every pool or host field that still names it
// (xapi's SR.forget/SR.destroy leave them dangling: ocaml/xapi/xapi_sr.ml `forget`/`destroy` touch no pool field,
// and pool.set_default_SR is a plain DB setter — docs/xapi-semantics.md §pool).
import type { XapiClient } from "../../../provider/xapi";
import type { ResourceContext } from "../../../provider/resources/contract";
import { resourceKinds } from "../../../provider/resources/registry";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";

const { Pool: pool, Sr: sr } = resourceKinds;

let lab: SimulatedPool | undefined;
let xapi: XapiClient;
let ctx: ResourceContext;
const { createWith, updateWith } = resourceSteps(() => ctx);

beforeAll(async () => {
  lab = await startPool("restore-pw", { hosts: 2 });
  ({ xapi, ctx } = lab);
});
afterAll(() => stopPool(lab));

interface PoolRec {
  default_SR: string;
  suspend_image_SR: string;
  crash_dump_SR: string;
  other_config: Record<string, string>;
  tags: string[];
}
const poolRef = async () => (await xapi.call<string[]>("pool.get_all"))[0];
const poolRecord = async () => xapi.call<PoolRec>("pool.get_record", await poolRef());
const nfs = (name: string) => ({
  type: "nfs",
  name,
  deviceConfig: { server: "192.0.2.10", serverpath: `/exports/${name}` },
});

describe("Pool delete", () => {
  it("puts back the SRs, other_config values and tags the pool had before, so deleting the stack's SR then leaves no dangling reference", async () => {
    const ref = await poolRef();
    await xapi.call("pool.add_to_other_config", ref, "env", "prod");
    await xapi.call("pool.add_tags", ref, "kept");
    const before = await poolRecord();
    const store = await createWith(sr, nfs("lab-store"));
    const made = await createWith(pool, {
      defaultSr: store.id,
      suspendImageSr: store.id,
      crashDumpSr: store.id,
      otherConfig: { env: "lab", owner: "infra" },
      tags: ["kept", "lab"],
      identity: "lab/dev/pool",
    });
    const storeRef = await xapi.call<string>("SR.get_by_uuid", store.id);
    expect(await poolRecord()).toMatchObject({
      default_SR: storeRef,
      suspend_image_SR: storeRef,
      crash_dump_SR: storeRef,
      other_config: { env: "lab", owner: "infra" },
    });

    await pool.delete(made.id, made.outs, ctx);
    const after = await poolRecord();
    expect(after.default_SR).toBe(before.default_SR);
    expect(after.suspend_image_SR).toBe(before.suspend_image_SR);
    expect(after.crash_dump_SR).toBe(before.crash_dump_SR);
    expect(after.other_config).toEqual(before.other_config);
    expect([...after.tags].sort()).toEqual([...before.tags].sort());

    await sr.delete(store.id, store.outs, ctx);
    // The redeploy of issue 9 read the default SR back: it must be a live SR.
    await expect(xapi.call("SR.get_record", (await poolRecord()).default_SR)).resolves.toBeDefined();
    await xapi.call("pool.remove_from_other_config", ref, "env");
    await xapi.call("pool.remove_tags", ref, "kept");
  });

  it("puts back a field that leaves the program at the next update", async () => {
    const before = await poolRecord();
    const store = await createWith(sr, nfs("update-store"));
    const made = await createWith(pool, { defaultSr: store.id, otherConfig: { env: "lab" }, identity: "lab/dev/pool" });
    const u = await updateWith(pool, made.id, made.outs, { identity: "lab/dev/pool" });
    const updated = await u.run();
    expect((await poolRecord()).default_SR).toBe(before.default_SR);
    expect((await poolRecord()).other_config).not.toHaveProperty("env");
    await pool.delete(made.id, updated.outs, ctx);
    await sr.delete(store.id, store.outs, ctx);
  });

  it("leaves the fields alone for state written before originals were recorded (only the identity keys go)", async () => {
    const store = await createWith(sr, nfs("old-state-store"));
    const made = await createWith(pool, { defaultSr: store.id, identity: "lab/dev/pool" });
    const { originals: _dropped, ...oldState } = made.outs;
    await pool.delete(made.id, oldState, ctx);
    const storeRef = await xapi.call<string>("SR.get_by_uuid", store.id);
    const after = await poolRecord();
    expect(after.default_SR).toBe(storeRef);
    expect(after.other_config).not.toHaveProperty("pulumi-xenserver:stack");
    await sr.delete(store.id, store.outs, ctx); // empties the default SR field, as below
  });
});

describe("Sr delete", () => {
  it.each([
    ["forgets", false],
    ["destroys", true],
  ])(
    "never leaves a pool or host reference dangling when it %s an SR the pool points at",
    async (_what, destroyOnDelete) => {
      const store = await createWith(sr, { ...nfs(`referenced-${destroyOnDelete}`), destroyOnDelete });
      const storeRef = await xapi.call<string>("SR.get_by_uuid", store.id);
      const ref = await poolRef();
      const before = await poolRecord();
      const [host] = await xapi.call<string[]>("host.get_all");
      const hostBefore = await xapi.call<string>("host.get_crash_dump_sr", host);
      // Out of band, as `xe pool-param-set default-SR=…` would.
      await xapi.call("pool.set_default_SR", ref, storeRef);
      await xapi.call("pool.set_crash_dump_SR", ref, storeRef);
      await xapi.call("host.set_crash_dump_sr", host, storeRef);

      await sr.delete(store.id, store.outs, ctx);
      const after = await poolRecord();
      expect(after.default_SR).toBe("OpaqueRef:NULL");
      expect(after.crash_dump_SR).toBe("OpaqueRef:NULL");
      expect(after.suspend_image_SR).toBe(before.suspend_image_SR);
      expect(await xapi.call("host.get_crash_dump_sr", host)).toBe("OpaqueRef:NULL");
      await xapi.call("pool.set_default_SR", ref, before.default_SR);
      await xapi.call("pool.set_crash_dump_SR", ref, before.crash_dump_SR);
      await xapi.call("host.set_crash_dump_sr", host, hostBefore);
    },
  );
});
