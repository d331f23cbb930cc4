// A disk filled from a local image through the real engine: the upload's progress
// reaches Pulumi's output, and a changed image plans a replacement.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSimulator, type Simulator } from "../../simulator";
import { E2EStack } from "./harness";

const program = `
const xen = require("pulumi-xenserver");
module.exports = async (a) => {
  const disk = new xen.Vdi("image", { sr: a.sr, name: "golden", source: { path: a.file, format: "raw" } });
  return { hash: disk.sourceHash, size: disk.virtualSize };
};
`;

describe("VDI from an image through the real engine", () => {
  let sim: Simulator;
  const stack = new E2EStack("vdi-upload");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pxs-image-"));
  const file = path.join(dir, "golden.img");
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, username: "root", password: "pw-upload", hosts: 1 });
  });
  afterAll(async () => {
    await sim.close();
    stack.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("shows upload progress and replaces the disk when the image changes", async () => {
    const { XapiClient } = await import("../../provider/xapi");
    const xapi = await XapiClient.connect({ url: sim.url, username: "root", password: "pw-upload" });
    const srs = await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
    const sr = Object.values(srs).find((s) => s.type === "lvm")!.uuid;
    await xapi.close();
    const config = {
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: "pw-upload", secret: true },
    };
    fs.writeFileSync(file, Buffer.alloc(8 * 1024 * 1024, 1));
    const [up] = await stack.run(["up"], {
      programSource: program,
      config,
      programArgs: { sr, file },
      captureLog: true,
    });
    expect(up.changes).toEqual({ create: 2 });
    expect(up.log).toMatch(/uploading golden.img to VDI "golden": 100%/);
    expect(up.outputs?.size.value).toBe(8 * 1024 * 1024);

    fs.writeFileSync(file, Buffer.alloc(8 * 1024 * 1024, 2));
    const [preview, again, destroy] = await stack.run(["preview", "up", "destroy"], {
      programSource: program,
      config,
      programArgs: { sr, file },
    });
    expect(preview.changes).toEqual({ same: 1, replace: 1 });
    expect(again.outputs?.hash.value).not.toBe(up.outputs?.hash.value);
    expect(destroy.changes).toEqual({ delete: 2 });
  });
});
