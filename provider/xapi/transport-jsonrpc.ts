/** JSON-RPC v2 over HTTP POST /jsonrpc (docs/xapi-semantics.md §1.4): the wire half of an RpcTransport. */
import { decodeJsonResponse, encodeJsonCall } from "./codec-jsonrpc";
import type { WireExchange } from "./transport";

let nextId = 1;

export const jsonRpcWire: WireExchange = {
  kind: "jsonrpc",
  path: "/jsonrpc",
  contentType: "application/json",
  encode: (method, params) => encodeJsonCall(method, params, nextId++ % 2147483647),
  decode: decodeJsonResponse,
  // Hosts without JSON-RPC answer /jsonrpc as XML-RPC (longest-prefix routing) or not at all.
  typed: true,
  unsupported: (status, ct) => status === 404 || status === 405 || status === 501 || (status < 300 && /xml/i.test(ct)),
};
