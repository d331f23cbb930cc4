import * as http from "http";
import { startSimulator, Simulator } from "../../simulator";
import { Client, Rec } from "./helpers/rpc";

const MiB = 1024 * 1024;

let sim: Simulator;
let c: Client;
let sr: string;
beforeAll(async () => {
  sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0 });
  c = await new Client(sim.url).login();
  [sr] = await c.call<string[]>("SR.get_by_name_label", "Local storage");
});
afterAll(() => sim.close());

const newVdi = (size = 4 * MiB) => c.call<string>("VDI.create", { SR: sr, virtual_size: size, type: "user", sharable: false, read_only: false, other_config: {} });

function put(path: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${sim.url}${path}`, { method: "PUT", headers: { "content-length": String(body.length), ...headers } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
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
    expect(await waitTask(r.headers["task-id"] as string)).toMatchObject({ status: "success", result: `<value>${vdi}</value>` });
  });

  it("answers 401 for a bad session", async () => {
    const vdi = await newVdi();
    expect((await put(`/import_raw_vdi?session_id=OpaqueRef:bad&vdi=${vdi}`, Buffer.alloc(10))).status).toBe(401);
  });

  it("refuses chunked transfer encoding and unknown formats through the task, HTTP 404", async () => {
    const vdi = await newVdi();
    const unknown = await put(`/import_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=zip`, Buffer.alloc(10));
    expect(unknown.status).toBe(404);
    expect(await waitTask(unknown.headers["task-id"] as string)).toMatchObject({ status: "failure", error_info: ["INTERNAL_ERROR", "Unknown format zip"] });
    const chunked = await new Promise<http.IncomingMessage>((resolve) => {
      const req = http.request(`${sim.url}/import_raw_vdi?session_id=${c.session}&vdi=${vdi}`, { method: "PUT" }, resolve);
      req.write(Buffer.alloc(10));
      req.end();
    });
    chunked.resume();
    expect(chunked.statusCode).toBe(404);
    expect(await waitTask(chunked.headers["task-id"] as string)).toMatchObject({ status: "failure", error_info: ["INTERNAL_ERROR", "Chunked encoding not yet implemented"] });
  });

  it("fails the task with VDI_IO_ERROR when the image is larger than the VDI", async () => {
    const vdi = await newVdi(2 * MiB);
    const r = await put(`/import_raw_vdi?session_id=${c.session}&vdi=${vdi}`, Buffer.alloc(3 * MiB));
    expect(r.status).toBe(200);
    expect(await waitTask(r.headers["task-id"] as string)).toMatchObject({ status: "failure", error_info: ["VDI_IO_ERROR", "Device I/O errors"] });
  });

  it("exports a fixed VHD (raw data + footer) and re-imports it", async () => {
    const vdi = await newVdi(2 * MiB);
    await put(`/import_raw_vdi?session_id=${c.session}&vdi=${vdi}`, Buffer.alloc(4096, 9)).then((r) => waitTask(r.headers["task-id"] as string));
    const res = await fetch(`${sim.url}/export_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=vhd`);
    expect(res.headers.get("content-type")).toBe("application/vhd");
    const vhd = Buffer.from(await res.arrayBuffer());
    expect(vhd.length).toBe(2 * MiB + 512);
    expect(vhd.toString("latin1", vhd.length - 512, vhd.length - 504)).toBe("conectix");
    const copy = await newVdi(2 * MiB);
    const r = await put(`/import_raw_vdi?session_id=${c.session}&vdi=${copy}&format=vhd`, vhd);
    expect((await waitTask(r.headers["task-id"] as string)).status).toBe("success");
    const back = Buffer.from(await (await fetch(`${sim.url}/export_raw_vdi?session_id=${c.session}&vdi=${copy}`)).arrayBuffer());
    expect(back.subarray(0, 4096).every((b) => b === 9)).toBe(true);
    expect(back.length).toBe(2 * MiB);
  });

  it("creates an 'Imported VDI' sized by Content-Length when given sr_id instead of vdi", async () => {
    const r = await put(`/import_raw_vdi?session_id=${c.session}&sr_id=${sr}&format=raw`, Buffer.alloc(2 * MiB, 3));
    const t = await waitTask(r.headers["task-id"] as string);
    const vdi = /<value>(.*)<\/value>/.exec(t.result as string)![1];
    expect(await c.call<Rec>("VDI.get_record", vdi)).toMatchObject({ name_label: "Imported VDI", virtual_size: 2 * MiB });
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
    const disk = Buffer.from(await (await fetch(`${sim.url}/export_raw_vdi?session_id=${c.session}&vdi=${vdi}`)).arrayBuffer());
    expect(disk.length).toBe(8 * MiB);
    expect(disk.subarray(4 * MiB, 4 * MiB + 1024).every((b) => b === 0xab)).toBe(true);
    expect(disk.subarray(0, 4 * MiB).every((b) => b === 0)).toBe(true);
  });

  it("fails the task with VDI_IO_ERROR for a VHD larger than the VDI or not a VHD at all", async () => {
    const vdi = await newVdi(2 * MiB);
    const big = await put(`/import_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=vhd`, dynamicVhd(16 * MiB, new Map()));
    expect(await waitTask(big.headers["task-id"] as string)).toMatchObject({ status: "failure", error_info: ["VDI_IO_ERROR", "Device I/O errors"] });
    const junk = await put(`/import_raw_vdi?session_id=${c.session}&vdi=${vdi}&format=vhd`, Buffer.alloc(4096, 1));
    expect(await waitTask(junk.headers["task-id"] as string)).toMatchObject({ status: "failure", error_info: ["VDI_IO_ERROR", "Device I/O errors"] });
  });
});
