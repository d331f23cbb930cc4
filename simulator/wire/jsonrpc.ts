/** JSON-RPC v1 and v2 as xapi's `jsoncallback` speaks them (docs/xapi-semantics.md §1.4). */
import { XType } from "../engine/types";
import { ParseError, EventBatch } from "./xmlrpc";
import { fromJson, WireValue } from "./value";

export interface JsonCall {
  method: string;
  params: WireValue[];
  id: string | number;
  v2: boolean;
}

export function parseJsonCall(body: string): JsonCall {
  let req: unknown;
  try {
    req = JSON.parse(body);
  } catch (e) {
    throw new ParseError(`Jsonrpc.Parse_error: ${(e as Error).message}`);
  }
  if (!req || typeof req !== "object" || Array.isArray(req)) throw new ParseError("request is not an object");
  const r = req as Record<string, unknown>;
  const v2 = r.jsonrpc === "2.0";
  if (typeof r.method !== "string") throw new ParseError("missing method");
  if (r.id === undefined || r.id === null) throw new ParseError("missing id (notifications are not supported)");
  if (typeof r.id !== "string" && !(typeof r.id === "number" && Number.isInteger(r.id))) throw new ParseError("bad id");
  let params: WireValue[];
  if (v2 && (r.params === undefined || r.params === null)) params = [];
  else if (Array.isArray(r.params)) params = r.params.map(fromJson);
  else if (v2 && typeof r.params === "object") params = [fromJson(r.params)];
  else throw new ParseError("params must be an array");
  return { method: r.method, params, id: r.id, v2 };
}

export function jsonSuccess(call: JsonCall, value: unknown, type: XType): string {
  const result = toJsonValue(value, type);
  return call.v2
    ? JSON.stringify({ jsonrpc: "2.0", result, id: call.id })
    : JSON.stringify({ result, error: null, id: call.id });
}

export function jsonFailure(call: JsonCall, description: string[], rawArray = false): string {
  if (!call.v2) return JSON.stringify({ result: null, error: description, id: call.id });
  if (rawArray) return JSON.stringify({ jsonrpc: "2.0", error: description, id: call.id });
  return JSON.stringify({
    jsonrpc: "2.0",
    error: { code: 1, message: description[0], data: description.slice(1) },
    id: call.id,
  });
}

/** Rows are stored in their JSON shapes already; only event batches and void need care. */
function toJsonValue(value: unknown, type: XType): unknown {
  if (type.kind === "void") return "";
  if (type.kind === "eventBatch") {
    const b = value as EventBatch;
    return {
      events: b.events.map((e) => {
        const o: Record<string, unknown> = {
          id: e.id,
          timestamp: e.timestamp,
          class: e.class,
          operation: e.operation,
          ref: e.ref,
        };
        if (e.snapshot) o.snapshot = e.snapshot;
        return o;
      }),
      valid_ref_counts: b.valid_ref_counts,
      token: b.token,
    };
  }
  return value;
}
