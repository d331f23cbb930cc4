import * as http from "http";
import { Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, Rec } from "./helpers/rpc";

const MiB = 1024 * 1024;

let sim: Simulator;
let c: Client;
let sr: string;
beforeAll(async () => {
  ({ sim, c } = await startWithClient());
  [sr] = await c.call<string[]>("SR.get_by_name_label", "Local storage");
});
afterAll(() => sim.close());

const newVdi = (size = 4 * MiB) =>
  c.call<string>("VDI.create", {
    SR: sr,
    virtual_size: size,
    type: "user",
    sharable: false,
    read_only: false,
    other_config: {},
  });

function put(
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${sim.url}${path}`,
      { method: "PUT", headers: { "content-length": String(body.length), ...headers } },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function waitTask(task: string): Promise<Rec> {
  for (;;) {
    const t = await c.call<Rec>("task.get_record", task);
    if (t.status !== "pending") return t;
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("PUT /import_raw_vdi", () => {
  it("answers 200 with task-id, writes the body and completes the task with the VDI ref", async () => {
    const vdi = await newVdi();
    const task = await c.call<string>("task.create", "upload", "");
    const data = Buffer.alloc(MiB, 7);
    const r = await put(`/import_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=raw&task_id=${task}`, data);
    expect(r.status).toBe(200);
    expect(r.headers["task-id"]).toBe(task);
    expect(await waitTask(task)).toMatchObject({ status: "success", result: `<value>${vdi}</value>` });
    const res = await fetch(`${sim.url}/export_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=raw`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename=".*\.raw"$/);
    const out = Buffer.from(await res.arrayBuffer());
    expect(out.length).toBe(4 * MiB);
    expect(out.subarray(0, MiB).equals(data)).toBe(true);
    expect(out.subarray(MiB).every((b) => b === 0)).toBe(true);
  });

  it("accepts the VDI uuid instead of its ref", async () => {
    const vdi = await newVdi();
    const uuid = await c.call<string>("VDI.get_uuid", vdi);
    const r = await put(`/import_raw_vdi?session_id=${c.session}&vdi=${uuid}`, Buffer.alloc(1024, 1));
    expect(await waitTask(r.headers["task-id"] as string)).toMatchObject({
      status: "success",
      result: `<value>${vdi}</value>`,
    });
  });

  it("answers 401 for a bad session", async () => {
    const vdi = await newVdi();
    expect((await put(`/import_raw_vdi?session_id=OpaqueRef:bad&vdi=${vdi}`, Buffer.alloc(10))).status).toBe(401);
  });

  it("refuses chunked transfer encoding and unknown formats through the caller's task, HTTP 404 without task-id", async () => {
    const vdi = await newVdi();
    const t1 = await c.call<string>("task.create", "upload", "");
    const unknown = await put(
      `/import_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=Zip&task_id=${t1}`,
      Buffer.alloc(10),
    );
    expect(unknown.status).toBe(404);
    expect(unknown.headers["task-id"]).toBeUndefined();
    expect(await waitTask(t1)).toMatchObject({
      status: "failure",
      error_info: ["INTERNAL_ERROR", "Unknown format Zip"],
    });
    const t2 = await c.call<string>("task.create", "upload", "");
    const chunked = await new Promise<http.IncomingMessage>((resolve) => {
      const req = http.request(
        `${sim.url}/import_raw_vdi?session_id=${c.session}&vdi=${vdi}&task_id=${t2}`,
        { method: "PUT" },
        resolve,
      );
      req.write(Buffer.alloc(10));
      req.end();
    });
    chunked.resume();
    expect(chunked.statusCode).toBe(404);
    expect(await waitTask(t2)).toMatchObject({
      status: "failure",
      error_info: ["INTERNAL_ERROR", "Cannot handle encoding: chunked"],
    });
    const t3 = await c.call<string>("task.create", "upload", "");
    const vhdChunked = await put(
      `/import_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=vhd&chunked=true&task_id=${t3}`,
      Buffer.alloc(10),
    );
    expect(vhdChunked.status).toBe(404);
    expect(await waitTask(t3)).toMatchObject({
      status: "failure",
      error_info: ["INTERNAL_ERROR", "Cannot handle chunked VHD"],
    });
  });

  it("answers 500 for a VDI that does not exist and leaves the caller's task pending (vdi_of_req outside the try)", async () => {
    const task = await c.call<string>("task.create", "upload", "");
    const r = await put(
      `/import_raw_vdi?session_id=${c.session}&vdi=OpaqueRef:00000000-dead-4000-8000-000000000000&task_id=${task}`,
      Buffer.alloc(10),
    );
    expect(r.status).toBe(500);
    await new Promise((res) => setTimeout(res, 20));
    expect(await c.call<Rec>("task.get_record", task)).toMatchObject({ status: "pending" });
  });

  it("fails the caller's task with VDI_MISSING (400) given neither vdi nor SR, and refuses VHD/QCOW2 into an SR (400)", async () => {
    const t1 = await c.call<string>("task.create", "upload", "");
    const none = await put(`/import_raw_vdi?session_id=${c.session}&format=zip&task_id=${t1}`, Buffer.alloc(10));
    expect(none.status).toBe(400);
    expect(await waitTask(t1)).toMatchObject({ status: "failure", error_info: ["VDI_MISSING"] });
    for (const [format, name] of [
      ["vhd", "VHD"],
      ["qcow2", "QCOW2"],
    ]) {
      const t = await c.call<string>("task.create", "upload", "");
      const r = await put(
        `/import_raw_vdi?session_id=${c.session}&sr_id=${sr}&format=${format}&task_id=${t}`,
        Buffer.alloc(10),
      );
      expect(r.status).toBe(400);
      expect(await waitTask(t)).toMatchObject({
        status: "failure",
        error_info: ["INTERNAL_ERROR", `Importing a ${name} directly into an SR not yet supported`],
      });
    }
    const t4 = await c.call<string>("task.create", "upload", "");
    const tar = await put(
      `/import_raw_vdi?session_id=${c.session}&sr_id=${sr}&format=tar&task_id=${t4}`,
      Buffer.alloc(10),
    );
    expect(tar.status).toBe(400);
    expect(await waitTask(t4)).toMatchObject({
      status: "failure",
      error_info: ["INTERNAL_ERROR", "Not enough info supplied to import"],
    });
    const t5 = await c.call<string>("task.create", "upload", "");
    const badSr = await put(
      `/import_raw_vdi?session_id=${c.session}&sr_uuid=no-such-sr&task_id=${t5}`,
      Buffer.alloc(10),
    );
    expect(badSr.status).toBe(400);
    expect(await waitTask(t5)).toMatchObject({ status: "failure", error_info: ["UUID_INVALID", "SR", "no-such-sr"] });
  });

  it("fails the task with VDI_IO_ERROR when the image is larger than the VDI", async () => {
    const vdi = await newVdi(2 * MiB);
    const r = await put(`/import_raw_vdi?session_id=${c.session}&vdi=${vdi}`, Buffer.alloc(3 * MiB));
    expect(r.status).toBe(200);
    expect(await waitTask(r.headers["task-id"] as string)).toMatchObject({
      status: "failure",
      error_info: ["VDI_IO_ERROR", "Device I/O errors"],
    });
  });

  it("exports a fixed VHD (raw data + footer) and re-imports it", async () => {
    const vdi = await newVdi(2 * MiB);
    await put(`/import_raw_vdi?session_id=${c.session}&vdi=${vdi}`, Buffer.alloc(4096, 9)).then((r) =>
      waitTask(r.headers["task-id"] as string),
    );
    const res = await fetch(`${sim.url}/export_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=vhd`);
    expect(res.headers.get("content-type")).toBe("application/vhd");
    const vhd = Buffer.from(await res.arrayBuffer());
    expect(vhd.length).toBe(2 * MiB + 512);
    expect(vhd.toString("latin1", vhd.length - 512, vhd.length - 504)).toBe("conectix");
    const copy = await newVdi(2 * MiB);
    const r = await put(`/import_raw_vdi?session_id=${c.session}&vdi=${copy}&format=vhd`, vhd);
    expect((await waitTask(r.headers["task-id"] as string)).status).toBe("success");
    const back = Buffer.from(
      await (await fetch(`${sim.url}/export_raw_vdi?session_id=${c.session}&vdi=${copy}`)).arrayBuffer(),
    );
    expect(back.subarray(0, 4096).every((b) => b === 9)).toBe(true);
    expect(back.length).toBe(2 * MiB);
  });

  it("creates an 'Imported VDI' sized by Content-Length when given sr_id instead of vdi", async () => {
    const r = await put(`/import_raw_vdi?session_id=${c.session}&sr_id=${sr}&format=raw`, Buffer.alloc(2 * MiB, 3));
    const t = await waitTask(r.headers["task-id"] as string);
    const vdi = /<value>(.*)<\/value>/.exec(t.result as string)![1];
    expect(await c.call<Rec>("VDI.get_record", vdi)).toMatchObject({
      name_label: "Imported VDI",
      virtual_size: 2 * MiB,
    });
  });
});

describe("GET /export_raw_vdi refusals", () => {
  it("answers 500 without a vdi or for one that does not exist, leaving the caller's task pending", async () => {
    const task = await c.call<string>("task.create", "download", "");
    const absent = await fetch(`${sim.url}/export_raw_vdi?session_id=${c.session}&task_id=${task}`);
    expect(absent.status).toBe(500);
    await absent.arrayBuffer();
    const unknown = await fetch(`${sim.url}/export_raw_vdi?session_id=${c.session}&vdi=OpaqueRef:NULL&task_id=${task}`);
    expect(unknown.status).toBe(500);
    expect(await unknown.text()).toContain("HTTP 500 internal server error");
    await new Promise((res) => setTimeout(res, 20));
    expect(await c.call<Rec>("task.get_record", task)).toMatchObject({ status: "pending" });
  });

  it("fails the caller's task with INTERNAL_ERROR for an unknown format, HTTP 404", async () => {
    const vdi = await newVdi();
    const task = await c.call<string>("task.create", "download", "");
    const r = await fetch(`${sim.url}/export_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=Zip&task_id=${task}`);
    expect(r.status).toBe(404);
    expect(r.headers.get("task-id")).toBeNull();
    await r.arrayBuffer();
    expect(await waitTask(task)).toMatchObject({
      status: "failure",
      error_info: ["INTERNAL_ERROR", "Unknown format Zip"],
    });
  });
});

/** A dynamic VHD (footer copy, "cxsparse" header, BAT, 2 MiB blocks with full bitmaps) holding `blocks`. */
function dynamicVhd(virtualSize: number, blocks: Map<number, Buffer>): Buffer {
  const blockSize = 2 * MiB;
  const entries = Math.ceil(virtualSize / blockSize);
  const footer = Buffer.alloc(512);
  footer.write("conectix", 0, "latin1");
  footer.writeUInt32BE(2, 8);
  footer.writeUInt32BE(0x00010000, 12);
  footer.writeBigUInt64BE(512n, 16);
  footer.writeBigUInt64BE(BigInt(virtualSize), 40);
  footer.writeBigUInt64BE(BigInt(virtualSize), 48);
  footer.writeUInt32BE(3, 60);
  const header = Buffer.alloc(1024);
  header.write("cxsparse", 0, "latin1");
  header.writeBigUInt64BE(0xffffffffffffffffn, 8);
  header.writeBigUInt64BE(1536n, 16);
  header.writeUInt32BE(0x00010000, 24);
  header.writeUInt32BE(entries, 28);
  header.writeUInt32BE(blockSize, 32);
  const batBytes = Math.ceil((entries * 4) / 512) * 512;
  const bat = Buffer.alloc(batBytes, 0xff);
  const parts: Buffer[] = [];
  let sector = (1536 + batBytes) / 512;
  for (const [i, data] of [...blocks].sort((a, b) => a[0] - b[0])) {
    bat.writeUInt32BE(sector, 4 * i);
    const block = Buffer.concat([Buffer.alloc(512, 0xff), Buffer.alloc(blockSize)]);
    data.copy(block, 512);
    parts.push(block);
    sector += block.length / 512;
  }
  return Buffer.concat([footer, header, bat, ...parts, footer]);
}

describe("PUT /import_raw_vdi with dynamic VHDs", () => {
  it("unpacks the allocated blocks at their offsets; unallocated ones read as zeros", async () => {
    const vdi = await newVdi(8 * MiB);
    const image = dynamicVhd(8 * MiB, new Map([[2, Buffer.alloc(1024, 0xab)]]));
    const r = await put(`/import_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=vhd`, image);
    expect((await waitTask(r.headers["task-id"] as string)).status).toBe("success");
    const disk = Buffer.from(
      await (await fetch(`${sim.url}/export_raw_vdi?session_id=${c.session}&vdi=${vdi}`)).arrayBuffer(),
    );
    expect(disk.length).toBe(8 * MiB);
    expect(disk.subarray(4 * MiB, 4 * MiB + 1024).every((b) => b === 0xab)).toBe(true);
    expect(disk.subarray(0, 4 * MiB).every((b) => b === 0)).toBe(true);
  });

  it("fails the task with VDI_IO_ERROR for a VHD larger than the VDI or not a VHD at all", async () => {
    const vdi = await newVdi(2 * MiB);
    const big = await put(
      `/import_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=vhd`,
      dynamicVhd(16 * MiB, new Map()),
    );
    expect(await waitTask(big.headers["task-id"] as string)).toMatchObject({
      status: "failure",
      error_info: ["VDI_IO_ERROR", "Device I/O errors"],
    });
    const junk = await put(`/import_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=vhd`, Buffer.alloc(4096, 1));
    expect(await waitTask(junk.headers["task-id"] as string)).toMatchObject({
      status: "failure",
      error_info: ["VDI_IO_ERROR", "Device I/O errors"],
    });
  });
});
