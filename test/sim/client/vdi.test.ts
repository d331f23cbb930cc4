/** VDI contents over HTTP: upload a file, download it back, in raw and VHD formats. */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Readable } from "stream";
import type { Simulator } from "../../../simulator";
import { XapiClient, XapiError, XapiTransportError, type Ref } from "../../../provider/xapi";
import { connect, sim } from "./sim";

const MiB = 1024 * 1024;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe.each(["jsonrpc", "xmlrpc"] as const)("VDI import/export over %s", (transport) => {
  let s: Simulator;
  let c: XapiClient;
  let sr: Ref<"SR">;
  let dir: string;
  beforeAll(async () => {
    s = await sim();
    c = await connect(s, { transport });
    const srs = await c.call("SR.get_all_records");
    sr = Object.entries(srs).find(([, r]) => r.content_type === "user")![0] as Ref<"SR">;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xapi-vdi-"));
  });
  afterAll(async () => {
    await c.close();
    await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const newVdi = (size: number): Promise<Ref<"VDI">> =>
    c.call("VDI.create", {
      SR: sr,
      virtual_size: size,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
      name_label: "upload",
    } as never) as Promise<Ref<"VDI">>;

  it("uploads a raw image with progress and downloads the same bytes", async () => {
    const data = randomBytes(MiB + 12345);
    const file = path.join(dir, "disk.raw");
    fs.writeFileSync(file, data);
    const vdi = await newVdi(2 * MiB);
    const progress: number[] = [];
    await c.importRawVdi(vdi, file, { format: "raw", onProgress: (p) => progress.push(p) });
    expect(progress[progress.length - 1]).toBe(1);
    const back = await readAll(await c.exportRawVdi(vdi, { format: "raw" }));
    expect(back.length).toBe(2 * MiB);
    expect(back.subarray(0, data.length).equals(data)).toBe(true);
    expect(back.subarray(data.length).every((b) => b === 0)).toBe(true);
  });

  it("round-trips through VHD: export as vhd, import the vhd into another disk", async () => {
    const data = randomBytes(MiB);
    const src = await newVdi(MiB);
    fs.writeFileSync(path.join(dir, "a.raw"), data);
    await c.importRawVdi(src, path.join(dir, "a.raw"));
    const vhd = await readAll(await c.exportRawVdi(src, { format: "vhd" }));
    expect(vhd.length).toBeGreaterThan(MiB);
    fs.writeFileSync(path.join(dir, "a.vhd"), vhd);
    const dst = await newVdi(MiB);
    await c.importRawVdi(dst, path.join(dir, "a.vhd"), { format: "vhd" });
    const back = await readAll(await c.exportRawVdi(dst));
    // The SR rounds sizes up (read them back): compare the written part, then the zeros.
    expect(back.length).toBe(await c.call("VDI.get_virtual_size", dst));
    expect(back.subarray(0, data.length).equals(data)).toBe(true);
    expect(back.subarray(data.length).every((b) => b === 0)).toBe(true);
  });

  it("reads an upload failure from the task", async () => {
    const vdi = await newVdi(MiB);
    const size = await c.call("VDI.get_virtual_size", vdi);
    const file = path.join(dir, "big.raw");
    fs.writeFileSync(file, randomBytes(size + MiB));
    const err = (await c.importRawVdi(vdi, file).catch((e) => e)) as XapiError;
    expect(err).toBeInstanceOf(XapiError);
    expect(err.code).toBe("VDI_IO_ERROR");
    await new Promise((r) => setTimeout(r, 50));
    // The client's own import task is destroyed (xapi's internal export tasks are left to its GC).
    const ours = [...s.store.table("task").values()].filter((t) =>
      /pulumi-xenserver/.test((t as { name_label: string }).name_label),
    );
    expect(ours).toEqual([]);
  });

  const ourTasks = (): unknown[] =>
    [...s.store.table("task").values()].filter((t) =>
      /pulumi-xenserver/.test((t as { name_label: string }).name_label),
    );
  const missing = "OpaqueRef:00000000-dead-4000-8000-000000000000" as Ref<"VDI">;

  // xapi resolves the VDI outside its try (Import_raw_vdi.handler / Export_raw_vdi.handler): an unknown ref is an
  // HTTP 500 and the caller's task stays pending, so the client reports the status after its grace period.
  it("reports HTTP 500 for an import into a VDI that does not exist, and destroys its pending task", async () => {
    const file = path.join(dir, "small.raw");
    fs.writeFileSync(file, randomBytes(4096));
    const t0 = Date.now();
    const err = (await c.importRawVdi(missing, file, { taskGraceMs: 100 }).catch((e) => e)) as XapiTransportError;
    expect(err).toBeInstanceOf(XapiTransportError);
    expect(err.code).toBe("XAPI_HTTP_STATUS");
    expect(err.status).toBe(500);
    expect(err.message).toContain("PUT /import_raw_vdi");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    await new Promise((r) => setTimeout(r, 50));
    expect(ourTasks()).toEqual([]);
  });

  it("reports the task's INTERNAL_ERROR for an import with an unknown format", async () => {
    const vdi = await newVdi(MiB);
    const file = path.join(dir, "small.raw");
    fs.writeFileSync(file, randomBytes(4096));
    const err = (await c.importRawVdi(vdi, file, { format: "qcow" as never }).catch((e) => e)) as XapiError;
    expect(err).toBeInstanceOf(XapiError);
    expect(err.code).toBe("INTERNAL_ERROR");
    expect(err.params).toEqual(["Unknown format qcow"]);
  });

  it("reports HTTP 500 for an export of a VDI that does not exist, the task's error for an unknown format", async () => {
    const err = (await c.exportRawVdi(missing, { taskGraceMs: 100 }).catch((e) => e)) as XapiTransportError;
    expect(err).toBeInstanceOf(XapiTransportError);
    expect(err.code).toBe("XAPI_HTTP_STATUS");
    expect(err.status).toBe(500);
    expect(err.message).toContain("GET /export_raw_vdi");
    await new Promise((r) => setTimeout(r, 50));
    expect(ourTasks()).toEqual([]);
    const vdi = await newVdi(MiB);
    const bad = (await c.exportRawVdi(vdi, { format: "qcow" as never }).catch((e) => e)) as XapiError;
    expect(bad).toBeInstanceOf(XapiError);
    expect(bad.code).toBe("INTERNAL_ERROR");
    expect(bad.params).toEqual(["Unknown format qcow"]);
    await new Promise((r) => setTimeout(r, 50));
    expect(ourTasks()).toEqual([]);
  });

  it("destroys its export task once the stream is read", async () => {
    const vdi = await newVdi(MiB);
    await readAll(await c.exportRawVdi(vdi));
    await new Promise((r) => setTimeout(r, 50));
    expect(ourTasks()).toEqual([]);
  });

  it("never leaks the session id in HTTP errors", async () => {
    const err = (await c.exportRawVdi("OpaqueRef:NULL" as Ref<"VDI">, { taskGraceMs: 50 }).catch((e) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    for (const ref of s.store.table("session").keys()) expect(`${err.message}${err.stack}`).not.toContain(ref);
  });
});
