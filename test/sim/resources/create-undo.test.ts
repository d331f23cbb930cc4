// Creates that fail after the object was made are undone; when the undo fails too, the error says what is
// left behind and how to remove it.
import type { Simulator } from "../../../simulator";
import { XapiClient } from "../../../provider/xapi";
import { closeAll, setConnector, type Xapi } from "../../../provider/resources/common/connection";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ResourceContext, EngineResource } from "../../../provider/resources/contract";
import { resourceSteps, startPool, stopPool, type SimulatedPool } from "./pool-fixture";
import { resourceKinds } from "../../../provider/resources/registry";

const { Network: network, Sr: sr, Vdi: vdi } = resourceKinds;

let sim: Simulator;
let xapi: XapiClient;
let ctx: ResourceContext;
let lab: SimulatedPool | undefined;
const GiB = 1024 ** 3;

beforeAll(async () => {
  lab = await startPool("pw", { hosts: 2, seed: { hostMemory: 16 * GiB } });
  ({ sim, xapi, ctx } = lab);
});

afterAll(() => stopPool(lab));

const { createWith } = resourceSteps(() => ctx);

describe("a create that fails after the object was made", () => {
  async function count(cls: string, name: string): Promise<number> {
    return (await xapi.call<string[]>(`${cls}.get_by_name_label`, name)).length;
  }
  const srUuid = async () => {
    const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
    return Object.values(srs).find((s) => s.type === "lvm")!.uuid;
  };

  it.each([
    [
      "network",
      "network.get_record",
      async () => ({ mod: network as EngineResource, news: { name: "half-net", vlan: 88, nic: "eth1" } }),
    ],
    [
      "VDI",
      "VDI.get_record",
      async () => ({ mod: vdi as EngineResource, news: { name: "half-disk", sr: await srUuid(), size: "1GiB" } }),
    ],
    [
      "SR",
      "SR.get_record",
      async () => ({
        mod: sr as EngineResource,
        news: { name: "half-sr", type: "nfs", deviceConfig: { server: "192.0.2.50", serverpath: "/exports/half" } },
      }),
    ],
  ] as const)(
    "leaves no %s behind (the engine never learns about it, and the next up makes another)",
    async (cls, failing, make) => {
      const { mod, news } = await make();
      const checked = await mod.check({}, news, ctx);
      expect(checked.failures).toBeUndefined();
      sim.faults.failNext(failing, 1, "INTERNAL_ERROR", ["injected"]);
      await expect(mod.create(checked.inputs!, ctx)).rejects.toThrow(/injected/);
      expect(await count(cls, news.name)).toBe(0);
    },
  );
});

describe("a create whose undo fails too", () => {
  it("says the disk is left behind, with its uuid and how to delete it", async () => {
    const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
    const checked = await vdi.check(
      {},
      {
        name: "orphan-disk",
        sr: Object.values(srs).find((s) => s.type === "lvm")!.uuid,
        size: "1GiB",
        identity: "p/s/orphan-disk",
      },
      ctx,
    );
    sim.faults.failNext("VDI.get_record", 1, "INTERNAL_ERROR", ["injected"]);
    sim.faults.failNext("VDI.destroy", 1, "INTERNAL_ERROR", ["undo refused"]);
    const err = (await vdi.create(checked.inputs!, ctx).catch((e) => e)) as Error;
    const [left] = await xapi.call<string[]>("VDI.get_by_name_label", "orphan-disk");
    const uuid = await xapi.call<string>("VDI.get_uuid", left);
    expect(err.message).toMatch(/injected/);
    expect(err.message).toMatch(/undo refused/);
    expect(err.message).toContain(`left behind, not in the stack's state. Find it as uuid ${uuid}`);
    expect(err.message).toContain(`xe vdi-destroy uuid=${uuid}`);
    await xapi.call("VDI.destroy", left);
  });
});

describe("an SR attach whose undo fails too", () => {
  it("says to forget the SR (never to destroy it: the data on the storage is the user's)", async () => {
    const nfs = {
      type: "nfs",
      name: "attach-undo",
      deviceConfig: { server: "192.0.2.70", serverpath: "/exports/undo" },
    };
    const made = await createWith(sr, nfs);
    await sr.delete(made.id, made.outs, ctx); // forgotten, storage kept
    const checked = await sr.check({}, { ...nfs, mode: "attach", existingUuid: made.id }, ctx);
    sim.faults.failNext("SR.get_record", 1, "INTERNAL_ERROR", ["injected"]);
    sim.faults.failNext("PBD.unplug", 1, "INTERNAL_ERROR", ["unplug refused"]);
    const err = (await sr.create(checked.inputs!, ctx).catch((e) => e)) as Error;
    expect(err.message).toMatch(/injected/);
    expect(err.message).toContain(
      `Find it as uuid ${made.id} and forget it (its data stays on the storage) by hand (xe sr-forget uuid=${made.id})`,
    );
    expect(err.message).not.toMatch(/sr-destroy/);
    const ref = await xapi.call<string>("SR.get_by_uuid", made.id);
    for (const pbd of await xapi.call<string[]>("SR.get_PBDs", ref))
      if (await xapi.call("PBD.get_currently_attached", pbd)) await xapi.call("PBD.unplug", pbd);
    await xapi.call("SR.forget", ref);
  });
});

describe("a disk whose upload fails", () => {
  it("names the disk and the image in the error, and leaves no disk behind", async () => {
    const image = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pxs-")), "golden.img");
    fs.writeFileSync(image, Buffer.alloc(2 * 1024 * 1024, 7));
    const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
    const checked = await vdi.check(
      {},
      { name: "failing-upload", sr: Object.values(srs).find((s) => s.type === "lvm")!.uuid, source: { path: image } },
      ctx,
    );
    expect(checked.failures).toBeUndefined();
    // The upload itself fails as a 500 from xapi would reach the client.
    setConnector(async (s) => {
      const real = (await XapiClient.connect({
        url: s.url,
        username: s.username,
        password: s.password,
      })) as unknown as Xapi;
      return new Proxy(real, {
        get: (t, k) =>
          k === "importRawVdi"
            ? async () => Promise.reject(new Error("PUT /import_raw_vdi on sim-host-1: HTTP 500"))
            : Reflect.get(t, k),
      });
    });
    try {
      const err = (await vdi.create(checked.inputs!, ctx).catch((e) => e)) as Error;
      expect(err.message).toBe(
        `uploading ${image} to disk "failing-upload": PUT /import_raw_vdi on sim-host-1: HTTP 500`,
      );
      expect(await xapi.call<string[]>("VDI.get_by_name_label", "failing-upload")).toEqual([]);
    } finally {
      await closeAll();
      setConnector(undefined);
    }
  });
});
