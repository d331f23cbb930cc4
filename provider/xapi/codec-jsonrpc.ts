/**
 * JSON-RPC v2 as xapi serves it at /jsonrpc (docs/xapi-semantics.md §1.4). Requests carry an integer id; responses are
 * accepted in all three error shapes: v2 `{code: 1, message: CODE, data: [params]}`, v1 and the
 * out-of-dispatch path's bare array `["CODE", ...]`.
 */
import { CodecError, type RpcOutcome } from "./codec-xmlrpc";
import { formatXapiDate } from "./datetime";

function checkParam(v: unknown, path: string): void {
  switch (typeof v) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(v)) throw new CodecError("invalid-parameter", `cannot encode the number ${v} at ${path}`);
      // Past 2^53 a JS number has lost digits already (and prints as 1e+21, which xapi reads as a float).
      if (Number.isInteger(v) && !Number.isSafeInteger(v))
        throw new CodecError(
          "invalid-parameter",
          `the integer ${v} at ${path} is too large to be sent exactly over JSON-RPC`,
        );
      return;
    case "object":
      if (v === null) break;
      if (v instanceof Date) return;
      if (Array.isArray(v)) {
        v.forEach((x, i) => checkParam(x, `${path}[${i}]`));
        return;
      }
      for (const k of Object.keys(v)) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) checkParam(x, `${path}.${k}`);
      }
      return;
  }
  throw new CodecError(
    "invalid-parameter",
    `cannot encode a parameter of type ${v === null ? "null" : typeof v} at ${path}`,
  );
}

function hasDate(v: unknown): boolean {
  if (v instanceof Date) return true;
  if (Array.isArray(v)) return v.some(hasDate);
  if (v && typeof v === "object") return Object.values(v).some(hasDate);
  return false;
}

function dateReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Date ? formatXapiDate(raw) : value;
}

/** `{"jsonrpc":"2.0","method":…,"params":[…],"id":…}` — Dates become xapi datetimes (`YYYYMMDDTHH:MM:SSZ`). */
export function encodeJsonCall(method: string, params: readonly unknown[], id: number): string {
  params.forEach((p, i) => checkParam(p, `parameter ${i + 1}`));
  const p = hasDate(params) ? JSON.stringify(params, dateReplacer) : JSON.stringify(params);
  return `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${p},"id":${id}}`;
}

export function decodeJsonResponse(body: string): RpcOutcome {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    const head = body.trimStart();
    if (head.startsWith("{")) throw new CodecError("malformed", "the JSON-RPC response is truncated or malformed");
    if (/^<(html|!doctype)/i.test(head)) throw new CodecError("not-xapi", "the server answered with an HTML page");
    throw new CodecError("not-xapi", "the response is not JSON-RPC");
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw new CodecError("not-xapi", "the response is not a JSON-RPC object");
  const r = doc as { result?: unknown; error?: unknown; id?: unknown };
  if (r.error !== undefined && r.error !== null) return { ok: false, error: errorList(r.error) };
  if (!("result" in r)) throw new CodecError("not-xapi", "the JSON-RPC response has neither result nor error");
  return { ok: true, value: r.result };
}

function errorList(e: unknown): unknown[] {
  if (Array.isArray(e)) return e;
  if (e && typeof e === "object") {
    const o = e as { message?: unknown; data?: unknown };
    const data = Array.isArray(o.data) ? o.data : o.data === undefined || o.data === null ? [] : [o.data];
    return [o.message ?? "UNKNOWN_ERROR", ...data];
  }
  return [String(e)];
}
