/** HTTP side channels: PUT /import_raw_vdi and GET /export_raw_vdi (SEMANTICS §8; import_raw_vdi.ml, export_raw_vdi.ml). */
import { IncomingMessage, ServerResponse } from "http";
import { randomUUID } from "crypto";
import { XapiError } from "../engine/errors";
import { completeTask, createTask, failTask } from "../engine/tasks";
import { Xapi } from "../engine/xapi";
import { SideChannel } from "../wire/http";
import { encodeValue } from "../wire/xmlrpc";
import { account } from "./sr";
import { newVdi } from "./vdi";
import { vdiData } from "./vdi-data";
import { readVhd, VhdError, VhdImage } from "./vhd";

const FORMATS = new Set(["raw", "vhd", "tar", "qcow2"]);
const MAX_VHD = 2040 * 1024 * 1024 * 1024;

function cookie(req: IncomingMessage, name: string): string | undefined {
  const m = new RegExp(`(?:^|;\\s*)${name}=([^;]*)`).exec(req.headers.cookie ?? "");
  return m?.[1];
}

function arg(req: IncomingMessage, url: URL, name: string): string | undefined {
  return url.searchParams.get(name) ?? cookie(req, name);
}

/** Basic auth makes a temporary session (Xapi_http.with_context); returns false after answering 401. */
function authorised(x: Xapi, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const sid = arg(req, url, "session_id");
  if (sid && x.store.has("session", sid)) return true;
  const auth = req.headers.authorization;
  if (!sid && auth?.startsWith("Basic ")) {
    const [u, ...p] = Buffer.from(auth.slice(6), "base64").toString().split(":");
    if (u === x.opts.username && p.join(":") === x.opts.password) return true;
  }
  res.writeHead(401, { "content-type": "text/html", "content-length": "0" });
  res.end();
  return false;
}

function resolveVdi(x: Xapi, v: string | undefined): string | undefined {
  if (!v) return undefined;
  if (x.store.has("VDI", v)) return v;
  try {
    return x.store.byUuid("VDI", v);
  } catch {
    return undefined;
  }
}

/**
 * When the VDI's SR is not attached on the host that got the request but is on another, xapi answers
 * 302 Found with the same path and query on that host (importexport.ml return_302_redirect).
 */
function redirected(x: Xapi, host: string, vdi: string | undefined, req: IncomingMessage, res: ServerResponse): boolean {
  if (!vdi) return false;
  const sr = x.store.tryGet("SR", x.store.get("VDI", vdi).SR);
  if (!sr) return false;
  const hosts = (sr.PBDs as string[]).map((p) => x.store.get("PBD", p)).filter((p) => p.currently_attached).map((p) => p.host as string);
  if (hosts.length === 0 || hosts.includes(host)) return false;
  const target = x.hostUrl.get(hosts[0]);
  if (!target) return false;
  res.writeHead(302, { location: `${target}${req.url ?? "/"}`, "content-length": "0" });
  res.end();
  return true;
}

function taskFor(x: Xapi, req: IncomingMessage, url: URL, label: string, host: string): string {
  const t = arg(req, url, "task_id");
  return t && x.store.has("task", t) ? t : createTask(x, label, "", host);
}

function notFound(res: ServerResponse, task: string, headersTask = true): void {
  res.writeHead(404, { "content-length": "0", ...(headersTask ? { "task-id": task } : {}) });
  res.end();
}

/** Writes over the disk's current contents. */
function write(x: Xapi, vdi: string, writes: { offset: number; data: Buffer }[]): void {
  if (writes.length === 0) return;
  const old = vdiData(x).get(vdi);
  const end = Math.max(old?.length ?? 0, ...writes.map((w) => w.offset + w.data.length));
  const out = Buffer.alloc(end);
  old?.copy(out);
  for (const w of writes) w.data.copy(out, w.offset);
  vdiData(x).set(vdi, out);
  const v = x.store.get("VDI", vdi);
  if ((v.physical_utilisation as number) < end) x.store.set("VDI", vdi, "physical_utilisation", Math.min(v.virtual_size as number, end));
  account(x, v.SR as string);
}

const importRawVdi: SideChannel = async (x, host, req, res, url) => {
  if (!authorised(x, req, res, url)) return;
  if (redirected(x, host, resolveVdi(x, arg(req, url, "vdi")), req, res)) return;
  const task = taskFor(x, req, url, "VDI import", host);
  const format = (arg(req, url, "format") ?? "raw").toLowerCase();
  if (!FORMATS.has(format)) {
    failTask(x, task, new XapiError("INTERNAL_ERROR", [`Unknown format ${format}`]));
    return notFound(res, task);
  }
  if (req.headers["transfer-encoding"]) {
    failTask(x, task, new XapiError("INTERNAL_ERROR", ["Chunked encoding not yet implemented"]));
    return notFound(res, task);
  }
  let vdi = resolveVdi(x, arg(req, url, "vdi"));
  const length = Number(req.headers["content-length"] ?? NaN);
  if (!vdi && !arg(req, url, "vdi")) {
    const srArg = arg(req, url, "sr_id") ?? arg(req, url, "sr_uuid");
    let sr: string | undefined;
    try {
      sr = srArg && x.store.has("SR", srArg) ? srArg : srArg ? x.store.byUuid("SR", srArg) : undefined;
      if (sr && format === "raw" && Number.isFinite(length)) {
        vdi = newVdi(x, { SR: sr, virtual_size: length, type: "user", sharable: false, read_only: false, other_config: {}, name_label: "Imported VDI" });
      }
    } catch (e) {
      failTask(x, task, e as XapiError);
      return notFound(res, task);
    }
  }
  if (!vdi) {
    failTask(x, task, new XapiError("HANDLE_INVALID", ["VDI", arg(req, url, "vdi") ?? ""]));
    return notFound(res, task);
  }
  // xapi answers 200 with the task before it reads the body; errors then go into the task.
  res.writeHead(200, { "task-id": task, "content-type": "application/octet-stream" });
  res.flushHeaders();
  const chunks: Buffer[] = [];
  let received = 0;
  const size = x.store.get("VDI", vdi).virtual_size as number;
  // A VHD carries metadata (footer, header, BAT, bitmaps): its own virtual size is checked once parsed.
  const limit = format === "vhd" ? size * 1.01 + 16 * 1024 * 1024 : size;
  let tooBig = false;
  await new Promise<void>((resolve) => {
    req.on("data", (c: Buffer) => {
      received += c.length;
      if (received > limit) tooBig = true;
      else chunks.push(c);
    });
    req.on("end", resolve);
    req.on("close", resolve);
    req.on("error", () => resolve());
  });
  const complete = Number.isFinite(length) ? received >= length : true;
  const body: Buffer = Buffer.concat(chunks);
  if (tooBig) {
    // A raw image larger than the VDI fails while writing past its end (import_raw_vdi.ml).
    if (format === "raw" && x.store.has("VDI", vdi)) write(x, vdi, [{ offset: 0, data: body.subarray(0, size) }]);
    failTask(x, task, new XapiError("VDI_IO_ERROR", ["Device I/O errors"]));
  } else if (!x.store.has("VDI", vdi)) failTask(x, task, new XapiError("HANDLE_INVALID", ["VDI", vdi]));
  else if (format === "vhd") {
    let image: VhdImage | undefined;
    try {
      image = readVhd(body);
      if (image.virtualSize > size) throw new VhdError("image larger than the VDI");
    } catch {
      // A truncated, bad or oversized VHD fails the copy as a device error, like any write failure.
      image = undefined;
    }
    if (image && complete) {
      write(x, vdi, image.writes);
      completeTask(x, task, encodeValue(vdi, { kind: "ref", cls: "VDI" }));
    } else failTask(x, task, new XapiError("VDI_IO_ERROR", ["Device I/O errors"]));
  } else {
    // Raw data is streamed onto the disk: what arrived before a cut connection stays written.
    write(x, vdi, [{ offset: 0, data: body }]);
    if (complete) completeTask(x, task, encodeValue(vdi, { kind: "ref", cls: "VDI" }));
    else failTask(x, task, new XapiError("VDI_IO_ERROR", ["Device I/O errors"]));
  }
  if (!res.writableEnded) res.end();
};

/** A fixed-size VHD footer (the VHD specification's hard disk footer, disk type 2). */
export function vhdFooter(size: number): Buffer {
  const f = Buffer.alloc(512);
  f.write("conectix", 0, "latin1");
  f.writeUInt32BE(2, 8);
  f.writeUInt32BE(0x00010000, 12);
  f.writeBigUInt64BE(0xffffffffffffffffn, 16);
  f.writeUInt32BE(Math.floor(Date.now() / 1000) - 946684800, 24);
  f.write("tap\0", 28, "latin1");
  f.writeUInt32BE(0x00010003, 32);
  f.write("Wi2k", 36, "latin1");
  f.writeBigUInt64BE(BigInt(size), 40);
  f.writeBigUInt64BE(BigInt(size), 48);
  const sectors = Math.min(Math.floor(size / 512), 65535 * 16 * 255);
  const spt = 255;
  const heads = 16;
  f.writeUInt16BE(Math.floor(sectors / (spt * heads)), 56);
  f.writeUInt8(heads, 58);
  f.writeUInt8(spt, 59);
  f.writeUInt32BE(2, 60);
  Buffer.from(randomUUID().replace(/-/g, ""), "hex").copy(f, 68);
  let sum = 0;
  for (const b of f) sum += b;
  f.writeUInt32BE(~sum >>> 0, 64);
  return f;
}

const exportRawVdi: SideChannel = async (x, host, req, res, url) => {
  if (!authorised(x, req, res, url)) return;
  if (redirected(x, host, resolveVdi(x, arg(req, url, "vdi")), req, res)) return;
  const task = taskFor(x, req, url, "VDI export", host);
  const format = (arg(req, url, "format") ?? "raw").toLowerCase();
  const vdi = resolveVdi(x, arg(req, url, "vdi"));
  if (!vdi) {
    failTask(x, task, new XapiError("HANDLE_INVALID", ["VDI", arg(req, url, "vdi") ?? ""]));
    return notFound(res, task);
  }
  if (format !== "raw" && format !== "vhd") {
    failTask(x, task, new XapiError("INTERNAL_ERROR", [`Unknown format ${format}`]));
    return notFound(res, task);
  }
  const v = x.store.get("VDI", vdi);
  const size = v.virtual_size as number;
  if (format === "vhd" && size > MAX_VHD) {
    failTask(x, task, new XapiError("VDI_TOO_LARGE", [vdi, String(MAX_VHD)]));
    return notFound(res, task);
  }
  res.writeHead(200, {
    "task-id": task,
    "content-type": format === "vhd" ? "application/vhd" : "application/octet-stream",
    "content-disposition": `attachment; filename="${v.uuid}.${format}"`,
    connection: "close",
  });
  const data = vdiData(x).get(vdi) ?? Buffer.alloc(0);
  const zero = Buffer.alloc(1024 * 1024);
  let sent = 0;
  const write = (b: Buffer) => new Promise<void>((resolve) => (res.write(b) ? resolve() : res.once("drain", resolve)));
  if (data.length) {
    await write(data.subarray(0, size));
    sent = Math.min(size, data.length);
  }
  while (sent < size && !res.destroyed) {
    const n = Math.min(zero.length, size - sent);
    await write(zero.subarray(0, n));
    sent += n;
  }
  if (format === "vhd") await write(vhdFooter(size));
  res.end();
  completeTask(x, task, "<value></value>");
};

export const sideChannels = new Map<string, SideChannel>([
  ["PUT /import_raw_vdi", importRawVdi],
  ["GET /export_raw_vdi", exportRawVdi],
]);
