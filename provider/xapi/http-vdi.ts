/**
 * The VDI HTTP side channels (docs/xapi-semantics.md §8): `PUT /import_raw_vdi` streams a file into a VDI with an exact
 * Content-Length and reads the outcome from the task; `GET /export_raw_vdi` returns the disk as a stream.
 * Both follow a 302 to the pool member that can reach the SR. Both run in a task of ours (`task_id`): xapi fails it
 * with the real error (INTERNAL_ERROR "Unknown format …", VDI_MISSING, …) before answering 400/404, so a non-2xx
 * answer waits briefly for that task and throws its XapiError rather than a bare HTTP status. An exception that
 * escapes xapi's handler (an unknown VDI ref/uuid: vdi_of_req runs outside its try) is a bare HTTP 500 that leaves the
 * task pending: after the grace period the status is reported and the task is ended and destroyed.
 */
import { createReadStream, promises as fsp } from "fs";
import { Readable, Transform } from "stream";
import { XapiTransportError } from "./errors";
import type { HttpEndpoint, HttpResponse } from "./http-endpoint";
import type { TaskRecord } from "./generated/types";
import { taskOutcome } from "./tasks";

export type VdiFormat = "raw" | "vhd";

export interface ImportRawVdiOptions {
  format?: VdiFormat;
  /** Fraction of the file sent, 0..1. */
  onProgress?: (p: number) => void;
  signal?: AbortSignal;
  /** Inactivity timeout of the upload and of the wait for the task (default 10 min). */
  timeoutMs?: number;
  /** After a non-2xx answer, how long to wait for the task's error before reporting the HTTP status (default 5 s). */
  taskGraceMs?: number;
}

export interface ExportRawVdiOptions {
  format?: VdiFormat;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** After a non-2xx answer, how long to wait for the task's error before reporting the HTTP status (default 5 s). */
  taskGraceMs?: number;
}

/** What the side channels need from the client. */
export interface VdiHttpContext {
  endpoint(): HttpEndpoint;
  endpointForUrl(url: URL): HttpEndpoint;
  sessionRef(): string;
  call(method: string, args: unknown[]): Promise<unknown>;
  waitTask(taskRef: string): Promise<TaskRecord>;
  /** Stops waiting for a task (the upload failed before it could finish). */
  forgetTask(taskRef: string): void;
  /** Logs in again after an HTTP 401. */
  relogin(stale: string): Promise<void>;
}

const MAX_REDIRECTS = 3;
const TASK_GRACE_MS = 5_000;

function query(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join("&");
}

async function followRedirects(
  ctx: VdiHttpContext,
  send: (ep: HttpEndpoint, path: string) => Promise<HttpResponse>,
  path: string,
): Promise<HttpResponse> {
  let ep = ctx.endpoint();
  for (let hop = 0; ; hop++) {
    const res = await send(ep, path);
    if ((res.statusCode === 302 || res.statusCode === 307) && hop < MAX_REDIRECTS) {
      const loc = res.headers["location"];
      await res.body.dump().catch(() => undefined);
      if (typeof loc !== "string")
        throw new XapiTransportError("XAPI_HTTP_STATUS", `redirect without a Location from ${ep.host}`, {
          status: res.statusCode,
          host: ep.host,
        });
      const target = new URL(loc, ep.origin);
      ep = ctx.endpointForUrl(new URL(target.origin));
      path = target.pathname + target.search;
      continue;
    }
    return res;
  }
}

/** The task's record if it finishes within `ms`; undefined if it is still pending then or the wait failed. */
async function finishedWithin(
  ctx: VdiHttpContext,
  task: string,
  done: Promise<TaskRecord>,
  ms: number,
): Promise<TaskRecord | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  const rec = await Promise.race([done.catch(() => undefined), late]);
  clearTimeout(timer);
  if (!rec) ctx.forgetTask(task);
  return rec;
}

/**
 * A non-2xx answer: the task's error when xapi failed it within `graceMs` (the event.from wait of the client, no
 * polling), the HTTP status otherwise (task still pending, or it succeeded). The URL, which holds the session id,
 * never goes into the message.
 */
async function failOnStatus(
  ctx: VdiHttpContext,
  res: HttpResponse,
  what: string,
  host: string,
  task: string,
  done: () => Promise<TaskRecord>,
  graceMs: number,
): Promise<void> {
  if (res.statusCode >= 200 && res.statusCode < 300) return;
  await res.body.dump().catch(() => undefined);
  const rec = await finishedWithin(ctx, task, done(), graceMs);
  if (rec && rec.status !== "success" && rec.status !== "pending") taskOutcome(rec, what, task);
  // xapi answered without touching the task (an exception that escaped to Http_svr, HTTP 500): nothing will ever
  // finish it, and task.destroy only marks a pending task. Ending it first lets the caller's destroy remove it.
  if (!rec) await ctx.call("task.set_status", [task, "cancelled"]).catch(() => undefined);
  throw new XapiTransportError("XAPI_HTTP_STATUS", `${what} on ${host}: HTTP ${res.statusCode}`, {
    status: res.statusCode,
    host,
    method: what,
  });
}

/**
 * A 401: the session expired between task.create and the request. Log in again; the task may outlive the refused
 * session, so end it (the caller's finally destroys it) — the retry makes another.
 */
async function refusedSession(ctx: VdiHttpContext, res: HttpResponse, session: string, task: string): Promise<void> {
  await res.body.dump().catch(() => undefined);
  await ctx.relogin(session);
  await ctx.call("task.set_status", [task, "cancelled"]).catch(() => undefined);
}

export async function importRawVdi(
  ctx: VdiHttpContext,
  vdiRef: string,
  filePath: string,
  opts: ImportRawVdiOptions = {},
): Promise<void> {
  const format = opts.format ?? "raw";
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const size = (await fsp.stat(filePath)).size;
  for (let attempt = 0; ; attempt++) {
    const task = (await ctx.call("task.create", [`pulumi-xenserver: import ${format} VDI`, ""])) as string;
    // After task.create: if that call had to log in again, the upload must use the session the task belongs to.
    const session = ctx.sessionRef();
    let settled = false;
    try {
      const done = ctx.waitTask(task);
      done.catch(() => undefined);
      const path = `/import_raw_vdi?${query({ session_id: session, vdi: vdiRef, format, task_id: task })}`;
      const res = await followRedirects(
        ctx,
        (ep, p) => {
          let sent = 0;
          const counter = new Transform({
            transform(chunk: Buffer, _enc, cb) {
              sent += chunk.length;
              if (opts.onProgress && size > 0) opts.onProgress(Math.min(1, sent / size));
              cb(null, chunk);
            },
          });
          const file = createReadStream(filePath);
          file.on("error", (e) => counter.destroy(e));
          file.pipe(counter);
          return ep.request({
            method: "PUT",
            path: p,
            headers: { "content-length": String(size), "content-type": "application/octet-stream" },
            body: counter,
            timeoutMs,
            signal: opts.signal,
            rpcMethod: "PUT /import_raw_vdi",
          });
        },
        path,
      );
      if (res.statusCode === 401 && attempt === 0) {
        await refusedSession(ctx, res, session, task);
        continue;
      }
      await failOnStatus(
        ctx,
        res,
        "PUT /import_raw_vdi",
        ctx.endpoint().host,
        task,
        () => done,
        opts.taskGraceMs ?? TASK_GRACE_MS,
      );
      await res.body.dump().catch(() => undefined);
      const rec = await done;
      settled = true;
      taskOutcome(rec, "PUT /import_raw_vdi", task);
      if (opts.onProgress && size === 0) opts.onProgress(1);
      return;
    } finally {
      if (!settled) ctx.forgetTask(task);
      await ctx.call("task.destroy", [task]).catch(() => undefined);
    }
  }
}

/** Peeks at the first bytes: xapi can answer 200 and then a whole `HTTP/1.1 500` response in the body. */
async function guardBody(body: Readable, host: string): Promise<Readable> {
  const it = body[Symbol.asyncIterator]();
  const first = await it.next();
  if (!first.done) {
    const chunk = first.value as Buffer;
    if (chunk.subarray(0, 5).toString("latin1") === "HTTP/") {
      body.destroy();
      const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(chunk.toString("latin1", 0, 16))?.[1] ?? 500);
      throw new XapiTransportError(
        "XAPI_HTTP_STATUS",
        `GET /export_raw_vdi on ${host}: HTTP ${status} inside the body`,
        { status, host },
      );
    }
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (!first.done) yield first.value as Buffer;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value as Buffer;
    }
  }
  return Readable.from(rest(), { objectMode: false });
}

export async function exportRawVdi(
  ctx: VdiHttpContext,
  vdiRef: string,
  opts: ExportRawVdiOptions = {},
): Promise<Readable> {
  const format = opts.format ?? "raw";
  for (let attempt = 0; ; attempt++) {
    // Our own task, so that a refusal (unknown VDI or format) can be read from it: xapi's 404 carries no task-id.
    const task = (await ctx.call("task.create", [`pulumi-xenserver: export ${format} VDI`, ""])) as string;
    const session = ctx.sessionRef(); // after task.create, which may have logged in again
    let destroyTask = true;
    try {
      const path = `/export_raw_vdi?${query({ session_id: session, vdi: vdiRef, format, task_id: task })}`;
      const res = await followRedirects(
        ctx,
        (ep, p) =>
          ep.request({
            method: "GET",
            path: p,
            timeoutMs: opts.timeoutMs ?? 600_000,
            signal: opts.signal,
            rpcMethod: "GET /export_raw_vdi",
          }),
        path,
      );
      if (res.statusCode === 401 && attempt === 0) {
        await refusedSession(ctx, res, session, task);
        continue;
      }
      // Only a refusal waits for the task: a successful export is judged by its stream.
      await failOnStatus(
        ctx,
        res,
        "GET /export_raw_vdi",
        ctx.endpoint().host,
        task,
        () => ctx.waitTask(task),
        opts.taskGraceMs ?? TASK_GRACE_MS,
      );
      const body = await guardBody(res.body as unknown as Readable, ctx.endpoint().host);
      // xapi completes the task once the stream is sent; destroying it earlier would only mark it.
      destroyTask = false;
      body.once("close", () => void ctx.call("task.destroy", [task]).catch(() => undefined));
      return body;
    } finally {
      if (destroyTask) await ctx.call("task.destroy", [task]).catch(() => undefined);
    }
  }
}
