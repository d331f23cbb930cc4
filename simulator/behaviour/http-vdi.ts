/** HTTP side channels: PUT /import_raw_vdi and GET /export_raw_vdi (docs/xapi-semantics.md §8; import_raw_vdi.ml, export_raw_vdi.ml). */
import { IncomingMessage, ServerResponse } from "http";
import { randomUUID } from "crypto";
import { XapiError } from "../engine/errors";
import { completeTask, createTask, failTask } from "../engine/tasks";
import { Xapi } from "../engine/xapi";
import { internalErrorPage, type SideChannel } from "../wire/http";
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

/** The hosts with a currently attached PBD of `sr` (Xapi_vm_helpers.which_specified_SRs_not_available_on_host). */
function hostsSeeing(x: Xapi, sr: string): string[] {
  const rec = x.store.tryGet("SR", sr);
  if (!rec) return [];
  return (rec.PBDs as string[])
    .map((p) => x.store.get("PBD", p))
    .filter((p) => p.currently_attached)
    .map((p) => p.host as string);
}

/**
 * Importexport.check_sr_availability then find_host_for_sr: "here" when this host sees the SR; otherwise xapi
 * answers 302 Found with the same path and query on a host that does (return_302_redirect), or raises
 * NO_HOSTS_AVAILABLE when none does.
 */
function locate(
  x: Xapi,
  host: string,
  sr: string,
  req: IncomingMessage,
  res: ServerResponse,
): "here" | "redirected" | XapiError {
  const hosts = hostsSeeing(x, sr);
  if (hosts.includes(host)) return "here";
  if (hosts.length === 0) return new XapiError("NO_HOSTS_AVAILABLE", []);
  const target = x.hostUrl.get(hosts[0]);
  if (!target) return "here"; // simulator: no URL known for that host, serve it here
  res.writeHead(302, { location: `${target}${req.url ?? "/"}`, connection: "close", "content-length": "0" });
  res.end();
  return "redirected";
}

function taskFor(x: Xapi, req: IncomingMessage, url: URL, label: string, host: string): string {
  return callerTask(x, req, url) ?? createTask(x, label, "", host);
}

/** The caller's task (`task_id`), if it names one; fail_task_in_request fails only that one. */
function callerTask(x: Xapi, req: IncomingMessage, url: URL): string | undefined {
  const t = arg(req, url, "task_id");
  return t && x.store.has("task", t) ? t : undefined;
}

/**
 * Http.http_404_missing / http_400_badrequest: a status line, Connection: close, no task-id. Nothing follows unless
 * the handler then re-raises (`trailer`: the 500 page Http_svr writes after it).
 */
function refuse(res: ServerResponse, status: 400 | 404, trailer = ""): void {
  res.writeHead(status, {
    connection: "close",
    "cache-control": "no-cache, no-store",
    "content-length": String(Buffer.byteLength(trailer)),
  });
  res.end(trailer);
}

/**
 * An exception that escapes the handler (Http_svr.handle_one -> response_internal_error): HTTP 500 with an HTML
 * page. The caller's task is not touched: only xapi's internal task (exec_with_new_task) is failed.
 */
function internalError(res: ServerResponse, detail: string): void {
  const body = internalErrorPage(detail);
  res.writeHead(500, {
    connection: "close",
    "cache-control": "no-cache, no-store",
    "content-type": "text/html",
    "content-length": String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/** When the handler raises after it has sent its headers, Http_svr still writes its whole 500 response on the socket. */
function late500(detail: string): string {
  const body = internalErrorPage(detail);
  return (
    "HTTP/1.1 500 Internal Error\r\ncontent-type: text/html\r\nconnection: close\r\ncache-control: no-cache, no-store\r\n" +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
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
  if ((v.physical_utilisation as number) < end)
    x.store.set("VDI", vdi, "physical_utilisation", Math.min(v.virtual_size as number, end));
  account(x, v.SR as string);
}

const importRawVdi: SideChannel = async (x, host, req, res, url) => {
  if (!authorised(x, req, res, url)) return;
  // Import_raw_vdi.handler: vdi_of_req runs outside any try, so an unknown ref/uuid escapes as HTTP 500 and the
  // caller's task stays pending.
  const vdiArg = arg(req, url, "vdi");
  let vdi = resolveVdi(x, vdiArg);
  if (vdiArg !== undefined && !vdi) return internalError(res, `Db_exn.Read_missing_uuid("VDI", "", "${vdiArg}")`);
  // Import_raw_vdi.import: errors here fail the caller's task (fail_task_in_request) and answer 400.
  const refuseImport = (e: XapiError, reraised: boolean): void => {
    const t = callerTask(x, req, url);
    if (t) failTask(x, t, e);
    refuse(res, 400, reraised ? late500(e.message) : "");
  };
  // sr_of_req reads cookie @ query: sr_id (taken as a ref, unchecked) before sr_uuid.
  const srId = cookie(req, "sr_id") ?? url.searchParams.get("sr_id") ?? undefined;
  const srUuid = cookie(req, "sr_uuid") ?? url.searchParams.get("sr_uuid") ?? undefined;
  let srOfReq: string | undefined = srId;
  if (srOfReq === undefined && srUuid !== undefined) {
    srOfReq = [...x.store.table("SR").entries()].find(([, r]) => r.uuid === srUuid)?.[0];
    if (!srOfReq) return refuseImport(new XapiError("UUID_INVALID", ["SR", srUuid]), true);
  }
  const sr = vdi ? (x.store.get("VDI", vdi).SR as string) : srOfReq;
  if (!sr) return refuseImport(new XapiError("VDI_MISSING", []), false);
  const where = locate(x, host, sr, req, res);
  if (where === "redirected") return;
  if (where !== "here") return refuseImport(where, true);
  // localhost_handler, in the caller's task (Xapi_http.with_context): HandleError fails it and sends its status.
  const task = taskFor(x, req, url, "VDI import", host);
  const fail = (e: XapiError, status: 400 | 404): void => {
    failTask(x, task, e);
    refuse(res, status);
  };
  const formatArg = arg(req, url, "format") ?? "raw";
  const format = formatArg.toLowerCase();
  if (!FORMATS.has(format)) return fail(new XapiError("INTERNAL_ERROR", [`Unknown format ${formatArg}`]), 404);
  if (format !== "raw" && arg(req, url, "chunked") !== undefined)
    return fail(new XapiError("INTERNAL_ERROR", ["Cannot handle chunked VHD"]), 404);
  const te = req.headers["transfer-encoding"];
  if (te) return fail(new XapiError("INTERNAL_ERROR", [`Cannot handle encoding: ${te}`]), 404);
  const length = req.headers["content-length"] === undefined ? NaN : Number(req.headers["content-length"]);
  if (!vdi) {
    if (format === "qcow2")
      return fail(new XapiError("INTERNAL_ERROR", ["Importing a QCOW2 directly into an SR not yet supported"]), 400);
    if (format === "vhd")
      return fail(new XapiError("INTERNAL_ERROR", ["Importing a VHD directly into an SR not yet supported"]), 400);
    if (format !== "raw" || !Number.isFinite(length))
      return fail(new XapiError("INTERNAL_ERROR", ["Not enough info supplied to import"]), 400);
    try {
      vdi = newVdi(x, {
        SR: sr,
        virtual_size: length,
        type: "user",
        sharable: false,
        read_only: false,
        other_config: {},
        name_label: "Imported VDI",
      });
    } catch (e) {
      // Any other exception: the task is failed and it escapes to Http_svr (HTTP 500).
      failTask(x, task, e as XapiError);
      return internalError(res, (e as Error).message);
    }
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
  // Export_raw_vdi.handler/export_raw: a missing or unknown VDI and an SR no host sees escape as HTTP 500,
  // leaving the caller's task pending.
  const vdiArg = arg(req, url, "vdi");
  if (vdiArg === undefined) return internalError(res, 'Failure("Missing vdi query parameter")');
  const vdi = resolveVdi(x, vdiArg);
  if (!vdi) return internalError(res, `Db_exn.Read_missing_uuid("VDI", "", "${vdiArg}")`);
  const where = locate(x, host, x.store.get("VDI", vdi).SR as string, req, res);
  if (where === "redirected") return;
  if (where !== "here") return internalError(res, where.message);
  const task = taskFor(x, req, url, "VDI export", host);
  const formatArg = arg(req, url, "format") ?? "raw";
  const format = formatArg.toLowerCase();
  // xapi also exports "tar" and "qcow2"; the simulator does not, and refuses them like unknown formats.
  if (format !== "raw" && format !== "vhd") {
    failTask(x, task, new XapiError("INTERNAL_ERROR", [`Unknown format ${formatArg}`]));
    return refuse(res, 404);
  }
  const v = x.store.get("VDI", vdi);
  const size = v.virtual_size as number;
  res.writeHead(200, {
    "task-id": task,
    "content-type": format === "vhd" ? "application/vhd" : "application/octet-stream",
    "content-disposition": `attachment; filename="${v.uuid}.${format}"`,
    connection: "close",
  });
  // The size is checked after the 200 headers: the task fails and Http_svr's 500 page becomes the body.
  if (format === "vhd" && size > MAX_VHD) {
    const e = new XapiError("VDI_TOO_LARGE", [vdi, String(MAX_VHD)]);
    failTask(x, task, e);
    res.end(late500(e.message));
    return;
  }
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
