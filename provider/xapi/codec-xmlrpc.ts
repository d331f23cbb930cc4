/**
 * XML-RPC encoding as xapi reads it and decoding of what xapi writes (docs/xapi-semantics.md §1.2, §1.3).
 * Requests: strings untagged, ints `<int>`, floats `<double>`, booleans `1`/`0`, Dates `<dateTime.iso8601>`.
 * Responses are parsed with fast-xml-parser without any coercion: ints arrive as untyped strings and are
 * made numbers later, from the datamodel (normalize.ts).
 */
import { XMLParser } from "fast-xml-parser";
import { formatXapiDate } from "./datetime";
import { scanMethodResponseValue, scanValueFragment } from "./xmlrpc-scanner";

/** Thrown by the codecs; the transport turns it into an XapiTransportError with the method and host. */
export class CodecError extends Error {
  constructor(
    readonly kind: "not-xapi" | "malformed" | "invalid-parameter",
    message: string,
  ) {
    super(message);
  }
}

/** What a response body decodes to. */
export type RpcOutcome = { ok: true; value: unknown } | { ok: false; error: unknown[] };

// CR is written as a character reference: a parser turns a literal CR LF (or lone CR) into LF (XML 1.0 §2.11).
const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;" };
const NEEDS_ESCAPE = /[&<>\r]/;
// Characters XML 1.0 does not allow in a document at all, even as references (§2.2): a parser refuses them.
const NOT_XML =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

// One scan for the usual case (plain text): anything that needs escaping, refusing, or a closer look (surrogates).
const NEEDS_CARE = /[&<>\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/;

export function escapeXmlText(s: string): string {
  if (!NEEDS_CARE.test(s)) return s;
  const bad = NOT_XML.exec(s);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).padStart(4, "0");
    // The text itself is not shown: it may be a password.
    throw new CodecError(
      "invalid-parameter",
      `a text parameter holds the character U+${code.toUpperCase()} at position ${bad.index}, which ` +
        `XML-RPC cannot carry; remove it (or use the JSON-RPC transport)`,
    );
  }
  return NEEDS_ESCAPE.test(s) ? s.replace(/[&<>\r]/g, (c) => XML_ESCAPES[c]) : s;
}

/** xapi's ints are int64; past 2^53 a JS number has lost digits already, so a bigint is required. */
function checkInteger(v: number | bigint): void {
  if (typeof v === "bigint" ? v < -(2n ** 63n) || v >= 2n ** 63n : !Number.isSafeInteger(v))
    throw new CodecError(
      "invalid-parameter",
      typeof v === "bigint"
        ? `the integer ${v} does not fit in xapi's int64`
        : `the integer ${v} is too large to be sent exactly (past 2^53 a JS number has lost digits; over XML-RPC a bigint can carry it)`,
    );
}

/** Encodes one value. `type` is the datamodel type of a top-level parameter, when known. */
export function encodeXmlValue(v: unknown, type?: string): string {
  switch (typeof v) {
    case "string":
      return `<value>${escapeXmlText(v)}</value>`;
    case "boolean":
      return v ? "<value><boolean>1</boolean></value>" : "<value><boolean>0</boolean></value>";
    case "number":
      if (!Number.isFinite(v)) throw new CodecError("invalid-parameter", `cannot encode the number ${v}`);
      if (type === "float" || !Number.isInteger(v)) return `<value><double>${v}</double></value>`;
      checkInteger(v);
      return `<value><int>${v}</int></value>`;
    case "bigint":
      checkInteger(v);
      return `<value><int>${v}</int></value>`;
    case "object": {
      if (v === null) break;
      if (v instanceof Date) return `<value><dateTime.iso8601>${formatXapiDate(v)}</dateTime.iso8601></value>`;
      if (Array.isArray(v)) {
        let out = "<value><array><data>";
        for (const x of v) out += encodeXmlValue(x);
        return out + "</data></array></value>";
      }
      let out = "<value><struct>";
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (o[k] === undefined) continue;
        out += `<member><name>${escapeXmlText(k)}</name>${encodeXmlValue(o[k])}</member>`;
      }
      return out + "</struct></value>";
    }
  }
  throw new CodecError("invalid-parameter", `cannot encode a parameter of type ${v === null ? "null" : typeof v}`);
}

/** A complete `<methodCall>` document. */
export function encodeXmlCall(
  method: string,
  params: readonly unknown[],
  types?: readonly (string | undefined)[],
): string {
  let out = `<?xml version="1.0"?><methodCall><methodName>${escapeXmlText(method)}</methodName><params>`;
  for (let i = 0; i < params.length; i++) out += `<param>${encodeXmlValue(params[i], types?.[i])}</param>`;
  return out + "</params></methodCall>";
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name: string, jPath: unknown) =>
    name === "member" || name === "param" || (name === "value" && String(jPath).endsWith("data.value")),
});

type XmlNode = string | { [tag: string]: unknown };

function setKey(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__")
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function parseDouble(s: string): number {
  const t = s.trim();
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  return Number(t);
}

/** Converts a parsed `<value>` node to a JS value. */
export function valueFromNode(node: unknown): unknown {
  if (node === undefined || node === null) return "";
  if (typeof node === "string") return node;
  if (typeof node !== "object") return String(node);
  const n = node as { [tag: string]: unknown };
  for (const tag in n) {
    if (tag === "#text") continue;
    const inner = n[tag] as XmlNode;
    switch (tag) {
      case "string":
        return typeof inner === "string" ? inner : "";
      case "int":
      case "i4":
      case "i8":
        return Number(String(inner).trim());
      case "boolean":
        return String(inner).trim() === "1";
      case "double":
        return parseDouble(String(inner));
      case "dateTime.iso8601":
      case "base64":
        return typeof inner === "string" ? inner.trim() : "";
      case "nil":
        return null;
      case "array": {
        const data = typeof inner === "object" ? (inner as { data?: unknown }).data : undefined;
        const values = data && typeof data === "object" ? (data as { value?: unknown[] }).value : undefined;
        return Array.isArray(values) ? values.map(valueFromNode) : [];
      }
      case "struct": {
        const out: Record<string, unknown> = {};
        const members = typeof inner === "object" ? (inner as { member?: unknown[] }).member : undefined;
        if (Array.isArray(members)) {
          for (const m of members as { name?: unknown; value?: unknown }[]) {
            setKey(out, typeof m.name === "string" ? m.name : String(m.name ?? ""), valueFromNode(m.value));
          }
        }
        return out;
      }
      default:
        throw new CodecError("malformed", `unknown XML-RPC value type <${tag}>`);
    }
  }
  return typeof n["#text"] === "string" ? n["#text"] : "";
}

function looksLikeXml(body: string): boolean {
  const head = body.trimStart().slice(0, 64);
  return head.startsWith("<?xml") || head.startsWith("<methodResponse");
}

/**
 * Decodes a `<methodResponse>`: the `Status`/`Value`/`ErrorDescription` envelope, a `<fault>`, or a bare value
 * (system.listMethods is not wrapped).
 */
export function decodeXmlResponse(body: string): RpcOutcome {
  if (!looksLikeXml(body)) {
    if (/<html|<!doctype/i.test(body.slice(0, 512)))
      throw new CodecError("not-xapi", "the server answered with an HTML page");
    throw new CodecError("not-xapi", "the response is not XML-RPC");
  }
  if (!/<\/methodResponse>\s*$/.test(body)) throw new CodecError("malformed", "the XML-RPC response is truncated");
  const fast = scanMethodResponseValue(body);
  if (fast) return envelope(fast.value);
  return decodeXmlResponseGeneral(body);
}

/** The general path: any well-formed XML-RPC document, through fast-xml-parser. */
export function decodeXmlResponseGeneral(body: string): RpcOutcome {
  let doc: { methodResponse?: { params?: { param?: { value?: unknown }[] }; fault?: { value?: unknown } } };
  try {
    doc = parser.parse(body);
  } catch (e) {
    throw new CodecError("malformed", `the XML-RPC response cannot be parsed: ${(e as Error).message}`);
  }
  const resp = doc.methodResponse;
  if (!resp || typeof resp !== "object") throw new CodecError("not-xapi", "the response has no <methodResponse>");
  if (resp.fault) {
    const f = valueFromNode(resp.fault.value) as { faultCode?: unknown; faultString?: unknown };
    return { ok: false, error: ["XMLRPC_FAULT", String(f?.faultCode ?? ""), String(f?.faultString ?? "")] };
  }
  const param = resp.params?.param?.[0];
  if (!param) throw new CodecError("malformed", "the XML-RPC response has no <param>");
  return envelope(valueFromNode(param.value));
}

/** Unwraps xapi's `{Status, Value | ErrorDescription}` struct; anything else is returned as the value. */
export function envelope(v: unknown): RpcOutcome {
  if (v !== null && typeof v === "object" && !Array.isArray(v) && "Status" in v) {
    const s = v as { Status: unknown; Value?: unknown; ErrorDescription?: unknown };
    if (s.Status === "Success") return { ok: true, value: s.Value === undefined ? "" : s.Value };
    const desc = Array.isArray(s.ErrorDescription)
      ? s.ErrorDescription
      : [String(s.ErrorDescription ?? "UNKNOWN_ERROR")];
    return { ok: false, error: desc };
  }
  return { ok: true, value: v };
}

/** Parses a lone `<value>` fragment, as found in `task.result` (docs/xapi-semantics.md §4.2). `""` stays `""`. */
export function decodeXmlValueFragment(fragment: string): unknown {
  if (fragment.trim() === "") return "";
  const fast = scanValueFragment(fragment);
  if (fast) return fast.value;
  let doc: { value?: unknown };
  try {
    doc = parser.parse(fragment);
  } catch (e) {
    throw new CodecError("malformed", `the task result cannot be parsed: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== "object" || !("value" in doc))
    throw new CodecError("malformed", "the task result is not an XML-RPC <value>");
  return valueFromNode(doc.value);
}
