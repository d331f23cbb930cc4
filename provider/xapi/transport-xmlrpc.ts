/** XML-RPC over HTTP POST / (docs/xapi-semantics.md §1.2, §1.3): the wire half of an RpcTransport. */
import { decodeXmlResponse, encodeXmlCall } from "./codec-xmlrpc";
import { paramTypes, takesSession } from "./normalize";
import type { WireExchange } from "./transport";

export const xmlRpcWire: WireExchange = {
  kind: "xmlrpc",
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
