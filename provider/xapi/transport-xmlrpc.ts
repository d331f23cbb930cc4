/** XML-RPC over HTTP POST / (docs/xapi-semantics.md §1.2, §1.3). */
import { decodeXmlResponse, encodeXmlCall } from "./codec-xmlrpc";
import type { Redactor } from "./errors";
import type { HttpEndpoint } from "./http";
import { paramTypes, takesSession } from "./normalize";
import { exchange, type CallOptions, type RpcTransport, type WireExchange } from "./transport";

const wire: WireExchange = {
  path: "/",
  contentType: "text/xml",
  encode(method, params) {
    const types = paramTypes(method);
    // Only top-level float parameters need a type hint (`<double>`, e.g. event.from's timeout).
    const hints = types ? (takesSession(method) ? [undefined, ...types] : types) : undefined;
    return encodeXmlCall(method, params, hints);
  },
  decode: decodeXmlResponse,
  typed: false,
  unsupported: () => false,
};

export class XmlRpcTransport implements RpcTransport {
  readonly kind = "xmlrpc" as const;
  constructor(
    readonly endpoint: HttpEndpoint,
    private readonly redactor: Redactor,
  ) {}

  call(method: string, params: readonly unknown[], opts: CallOptions): Promise<unknown> {
    return exchange(this.endpoint, wire, this.redactor, method, params, opts);
  }
}
