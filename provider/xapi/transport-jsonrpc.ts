/** JSON-RPC v2 over HTTP POST /jsonrpc (docs/xapi-semantics.md §1.4). */
import { decodeJsonResponse, encodeJsonCall } from "./codec-jsonrpc";
import type { Redactor } from "./errors";
import type { HttpEndpoint } from "./http";
import { exchange, type CallOptions, type RpcTransport, type WireExchange } from "./transport";

let nextId = 1;

const wire: WireExchange = {
  path: "/jsonrpc",
  contentType: "application/json",
  encode: (method, params) => encodeJsonCall(method, params, nextId++ % 2147483647),
  decode: decodeJsonResponse,
  // Hosts without JSON-RPC answer /jsonrpc as XML-RPC (longest-prefix routing) or not at all.
  typed: true,
  unsupported: (status, ct) => status === 404 || status === 405 || status === 501 || (status < 300 && /xml/i.test(ct)),
};

export class JsonRpcTransport implements RpcTransport {
  readonly kind = "jsonrpc" as const;
  constructor(
    readonly endpoint: HttpEndpoint,
    private readonly redactor: Redactor,
  ) {}

  call(method: string, params: readonly unknown[], opts: CallOptions): Promise<unknown> {
    return exchange(this.endpoint, wire, this.redactor, method, params, opts);
  }
}
