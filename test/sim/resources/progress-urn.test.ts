// Issue 9 item 7, the provider's side: the URN the sdk passes rides through check into create, is kept in the
// outputs for delete, never counts as a change, and each call's progress goes to the engine with it. State written
// before the URN was passed keeps working: its progress goes to stderr, naming the resource, as before.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { configure, dispatch } from "../../../provider/runtime";
import { closeAll, setConnector } from "../../../provider/resources/common/connection";
import { resourceUrnKey, useLogSink } from "../../../provider/resources/common/progress";
import type { LogMessage } from "../../../provider/status/engine-log";
import { startSimulator, type Simulator } from "../../../simulator";
import { XapiClient } from "../../../provider/xapi";

const urn = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/xenserver:Vdi::golden";
const password = "progress-urn-pw";
let sim: Simulator;
let sr: string;
let dir: string;
const got: LogMessage[] = [];
let stderr: string[] = [];
let spy: jest.SpyInstance;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, username: "root", password });
  const xapi = await XapiClient.connect({ url: sim.url, username: "root", password });
  const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
  sr = Object.values(srs).find((s) => s.type === "lvm")!.uuid;
  await xapi.close();
  const settings: Record<string, string> = {
    "xenserver:url": sim.url,
    "xenserver:username": "root",
    "xenserver:password": password,
  };
  setConnector(undefined);
  configure({ get: (k) => settings[k] });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "pxs-progress-urn-"));
  fs.writeFileSync(path.join(dir, "disk.img"), Buffer.alloc(8 * 1024 * 1024, 3));
  useLogSink({
    send: async (m) => {
      got.push(m);
      return true;
    },
    close: () => undefined,
  });
});
afterAll(async () => {
  useLogSink(undefined);
  await closeAll();
  await sim.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  got.length = 0;
  stderr = [];
  spy = jest.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
    stderr.push(String(s));
    return true;
  });
});
afterEach(() => spy.mockRestore());

const settle = () => new Promise((r) => setTimeout(r, 50));

describe("the resource's URN through the provider", () => {
  it("check keeps it, create reports with it and keeps it in the outputs, diff ignores it, delete reports with it", async () => {
    const news = {
      name: "golden",
      sr,
      source: { path: path.join(dir, "disk.img"), format: "raw" },
      [resourceUrnKey]: urn,
    };
    const checked = (await dispatch("Vdi", "check", {}, news)) as { inputs: Record<string, unknown> };
    expect(checked.inputs[resourceUrnKey]).toBe(urn);

    const made = (await dispatch("Vdi", "create", checked.inputs)) as { id: string; outs: Record<string, unknown> };
    await settle();
    expect(made.outs[resourceUrnKey]).toBe(urn);
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((m) => m.urn === urn && m.ephemeral)).toBe(true);
    expect(got.map((m) => m.message)).toContain('uploading disk.img to VDI "golden": 100%');
    expect(stderr.join("")).not.toMatch(/uploading/);

    // A renamed or re-parented resource (same object, new URN) is no change; nor is state without the URN.
    const moved = { ...checked.inputs, [resourceUrnKey]: urn.replace("::golden", "::golden2") };
    expect(await dispatch("Vdi", "diff", made.id, made.outs, moved)).toMatchObject({ changes: false });
    const { [resourceUrnKey]: _u, ...oldOuts } = made.outs;
    expect(await dispatch("Vdi", "diff", made.id, oldOuts, checked.inputs)).toMatchObject({ changes: false });

    // refresh keeps it in the outputs and inputs it reports.
    const read = (await dispatch("Vdi", "read", made.id, made.outs)) as {
      props: Record<string, unknown>;
      inputs?: Record<string, unknown>;
    };
    expect(read.props[resourceUrnKey]).toBe(urn);
    if (read.inputs) expect(read.inputs[resourceUrnKey]).toBe(urn);

    got.length = 0;
    await dispatch("Vdi", "delete", made.id, made.outs);
    await settle();
    expect(got.map((m) => [m.urn, m.message])).toContainEqual([urn, 'destroying VDI "golden": 100%']);
  });

  it("state written before the sdk passed the URN: the calls work, and their progress goes to stderr naming the resource", async () => {
    const news = { name: "legacy", sr, source: { path: path.join(dir, "disk.img"), format: "raw" } };
    const checked = (await dispatch("Vdi", "check", {}, news)) as { inputs: Record<string, unknown> };
    expect(checked.inputs).not.toHaveProperty(resourceUrnKey);
    const made = (await dispatch("Vdi", "create", checked.inputs)) as { id: string; outs: Record<string, unknown> };
    expect(made.outs).not.toHaveProperty(resourceUrnKey);
    await settle();
    expect(got).toEqual([]);
    expect(stderr.join("")).toMatch(/^pulumi-xenserver: Vdi: uploading disk\.img to VDI "legacy": \d+%$/m);

    // Growing it (VDI.resize, a task): an update of old state, reported on stderr with the resource's id.
    stderr = [];
    await dispatch("Vdi", "update", made.id, made.outs, { ...checked.inputs, size: 16 * 1024 * 1024 });
    await settle();
    expect(got).toEqual([]);
    expect(stderr.join("")).toContain(`pulumi-xenserver: Vdi ${made.id}: resizing VDI "legacy"`);
    await dispatch("Vdi", "delete", made.id, made.outs);
  });
});
