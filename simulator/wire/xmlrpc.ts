/** XML-RPC as xapi speaks it (rpclib non-strict): request parsing and typed response encoding. */
import { classes } from "../engine/datamodel";
import { XType } from "../engine/types";
import { WireValue } from "./value";

export class ParseError extends Error {}

export interface XmlCall {
  method: string;
  params: WireValue[];
}

const ENTITY: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e[0] === "#") return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    const r = ENTITY[e];
    if (r === undefined) throw new ParseError(`unknown entity ${m}`);
    return r;
  });
}

/** A small pull parser: enough XML for XML-RPC (elements, text, entities, CDATA, comments, prolog). */
class Reader {
  pos = 0;
  constructor(private readonly s: string) {}

  skipMisc(): void {
    for (;;) {
      while (this.pos < this.s.length && /\s/.test(this.s[this.pos])) this.pos++;
      if (this.s.startsWith("<?", this.pos)) this.pos = this.after("?>");
      else if (this.s.startsWith("<!--", this.pos)) this.pos = this.after("-->");
      else if (this.s.startsWith("<!DOCTYPE", this.pos)) this.pos = this.after(">");
      else return;
    }
  }

  private after(end: string): number {
    const i = this.s.indexOf(end, this.pos);
    if (i < 0) throw new ParseError(`unterminated ${end}`);
    return i + end.length;
  }

  /** Reads `<name ...>` or `<name/>`; returns the tag name and whether it self-closed. */
  open(expected?: string): { name: string; empty: boolean } {
    this.skipMisc();
    if (this.s[this.pos] !== "<" || this.s[this.pos + 1] === "/")
      throw new ParseError(`expected <${expected ?? "element"}> at ${this.pos}`);
    const end = this.s.indexOf(">", this.pos);
    if (end < 0) throw new ParseError("unterminated tag");
    let body = this.s.slice(this.pos + 1, end);
    this.pos = end + 1;
    const empty = body.endsWith("/");
    if (empty) body = body.slice(0, -1);
    const name = body.trim().split(/\s/)[0];
    if (expected && name !== expected) throw new ParseError(`expected <${expected}>, got <${name}>`);
    return { name, empty };
  }

  close(name: string): void {
    this.skipMisc();
    const tag = `</${name}`;
    if (!this.s.startsWith(tag, this.pos)) throw new ParseError(`expected </${name}> at ${this.pos}`);
    const end = this.s.indexOf(">", this.pos);
    this.pos = end + 1;
  }

  peekClose(): boolean {
    this.skipMisc();
    return this.s.startsWith("</", this.pos);
  }

  peekOpen(): string | undefined {
    const save = this.pos;
    this.skipMisc();
    if (this.s[this.pos] === "<" && this.s[this.pos + 1] !== "/") {
      const m = /^<([A-Za-z0-9_.:-]+)/.exec(this.s.slice(this.pos, this.pos + 64));
      this.pos = save;
      return m?.[1];
    }
    this.pos = save;
    return undefined;
  }

  /** Text up to the next tag (entities and CDATA decoded). */
  text(): string {
    let out = "";
    for (;;) {
      if (this.s.startsWith("<![CDATA[", this.pos)) {
        const end = this.s.indexOf("]]>", this.pos);
        if (end < 0) throw new ParseError("unterminated CDATA");
        out += this.s.slice(this.pos + 9, end);
        this.pos = end + 3;
        continue;
      }
      const lt = this.s.indexOf("<", this.pos);
      if (lt < 0) throw new ParseError("unexpected end of document");
      out += decodeEntities(this.s.slice(this.pos, lt));
      this.pos = lt;
      if (!this.s.startsWith("<![CDATA[", this.pos)) return out;
    }
  }

  simple(name: string): string {
    const o = this.open(name);
    if (o.empty) return "";
    const t = this.text();
    this.close(name);
    return t;
  }

  /** Parses `<value>…</value>`. */
  value(): WireValue {
    const o = this.open("value");
    if (o.empty) return { t: "string", v: "" };
    const textBefore = this.text();
    if (this.peekClose()) {
      this.close("value");
      return { t: "string", v: textBefore };
    }
    const tag = this.open();
    let v: WireValue;
    if (tag.empty) {
      v = emptyOf(tag.name);
    } else {
      switch (tag.name) {
        case "string":
          v = { t: "string", v: this.text() };
          break;
        case "int":
        case "i4":
        case "i8":
          v = { t: "int", v: this.text().trim() };
          break;
        case "boolean":
          v = { t: "bool", v: this.text().trim() === "1" };
          break;
        case "double": {
          const txt = this.text().trim();
          const n = Number(txt);
          if (txt === "" || Number.isNaN(n)) throw new ParseError(`bad double ${txt}`);
          v = { t: "double", v: n };
          break;
        }
        case "dateTime.iso8601":
          v = { t: "datetime", v: this.text().trim() };
          break;
        case "base64":
          v = { t: "base64", v: this.text().trim() };
          break;
        case "nil":
          this.text();
          v = { t: "nil" };
          break;
        case "array": {
          const items: WireValue[] = [];
          const d = this.open("data");
          if (!d.empty) {
            while (this.peekOpen() === "value") items.push(this.value());
            this.close("data");
          }
          v = { t: "array", v: items };
          break;
        }
        case "struct": {
          const m = new Map<string, WireValue>();
          while (this.peekOpen() === "member") {
            this.open("member");
            const name = this.simple("name");
            const val = this.value();
            this.close("member");
            m.set(name, val);
          }
          v = { t: "struct", v: m };
          break;
        }
        default:
          throw new ParseError(`unknown value type <${tag.name}>`);
      }
      this.close(tag.name);
    }
    this.close("value");
    return v;
  }
}

function emptyOf(name: string): WireValue {
  switch (name) {
    case "array":
      return { t: "array", v: [] };
    case "struct":
      return { t: "struct", v: new Map() };
    case "nil":
      return { t: "nil" };
    case "string":
      return { t: "string", v: "" };
    default:
      throw new ParseError(`empty <${name}/>`);
  }
}

export function parseCall(body: string): XmlCall {
  const r = new Reader(body);
  r.open("methodCall");
  const method = r.simple("methodName").trim();
  const p = r.open("params");
  const params: WireValue[] = [];
  if (!p.empty) {
    while (r.peekOpen() === "param") {
      r.open("param");
      params.push(r.value());
      r.close("param");
    }
    r.close("params");
  }
  r.close("methodCall");
  return { method, params };
}

// ---------------------------------------------------------------- encoding

const ESC = /[<>&"\x00-\x08\x0b\x0c\x0e-\x1f]/;

export function escapeXml(s: string): string {
  if (!ESC.test(s)) return s;
  let out = "";
  for (const ch of s) {
    switch (ch) {
      case "<":
        out += "&lt;";
        break;
      case ">":
        out += "&gt;";
        break;
      case "&":
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default: {
        const c = ch.charCodeAt(0);
        // rpclib deletes control characters other than TAB, LF and CR.
        if (c < 0x20 && c !== 9 && c !== 10 && c !== 13) break;
        out += ch;
      }
    }
  }
  return out;
}

/** OCaml's `%.16g`. */
export function formatDouble(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  if (!Number.isFinite(n)) return Number.isNaN(n) ? "nan" : n > 0 ? "inf" : "-inf";
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -5 || exp >= 16) {
    const [m, e] = n.toExponential(15).split("e");
    const mant = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
    const ev = Number(e);
    return `${mant}e${ev < 0 ? "-" : "+"}${String(Math.abs(ev)).padStart(2, "0")}`;
  }
  const s = n.toPrecision(16);
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

/** Encodes `v` as xapi writes a value of datamodel type `t`. */
export function encodeValue(v: unknown, t: XType): string {
  switch (t.kind) {
    case "string":
    case "ref":
    case "enum":
      return `<value>${escapeXml(String(v ?? ""))}</value>`;
    case "int":
      return `<value>${typeof v === "number" ? Math.trunc(v) : String(v ?? 0)}</value>`;
    case "float":
      return `<value><double>${formatDouble(Number(v ?? 0))}</double></value>`;
    case "bool":
      return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
    case "datetime":
      return `<value><dateTime.iso8601>${escapeXml(String(v))}</dateTime.iso8601></value>`;
    case "void":
      return "<value></value>";
    case "set": {
      let out = "<value><array><data>";
      for (const x of (v as unknown[]) ?? []) out += encodeValue(x, t.of);
      return out + "</data></array></value>";
    }
    case "map": {
      let out = "<value><struct>";
      for (const [k, x] of Object.entries((v as Record<string, unknown>) ?? {})) {
        out += `<member><name>${escapeXml(k)}</name>${encodeValue(x, t.value)}</member>`;
      }
      return out + "</struct></value>";
    }
    case "record":
      return encodeRecord(v as Record<string, unknown>, t.cls);
    case "option":
      return v === undefined ? "<value></value>" : encodeValue(v, t.of);
    case "eventBatch":
      return encodeEventBatch(v as EventBatch);
    case "any":
      return encodeUntyped(v);
  }
}

const recordTypes = new Map<string, [string, XType][]>();

export function encodeRecord(row: Record<string, unknown>, cls: string): string {
  let fields = recordTypes.get(cls);
  if (!fields) {
    const c = classes.get(cls);
    fields = c ? c.fieldList.map((f) => [f.name, f.type] as [string, XType]) : [];
    recordTypes.set(cls, fields);
  }
  let out = "<value><struct>";
  for (const [name, type] of fields) {
    if (!(name in row)) continue;
    out += `<member><name>${name}</name>${encodeValue(row[name], type)}</member>`;
  }
  return out + "</struct></value>";
}

export interface EventRecord {
  id: string;
  timestamp: string;
  class: string;
  operation: string;
  ref: string;
  snapshot?: Record<string, unknown>;
  /** datamodel spelling of the class, to encode the snapshot */
  cls: string;
}

export interface EventBatch {
  events: EventRecord[];
  valid_ref_counts: Record<string, number>;
  token: string;
}

function encodeEventBatch(b: EventBatch): string {
  let out = "<value><struct><member><name>events</name><value><array><data>";
  for (const e of b.events) out += encodeEvent(e);
  out += "</data></array></value></member><member><name>valid_ref_counts</name><value><struct>";
  for (const [k, n] of Object.entries(b.valid_ref_counts))
    out += `<member><name>${k}</name><value><i4>${n}</i4></value></member>`;
  return `${out}</struct></value></member><member><name>token</name><value>${b.token}</value></member></struct></value>`;
}

export function encodeEvent(e: EventRecord): string {
  let out =
    `<value><struct><member><name>id</name><value>${e.id}</value></member>` +
    `<member><name>timestamp</name><value>${e.timestamp}</value></member>` +
    `<member><name>class</name><value>${e.class}</value></member>` +
    `<member><name>operation</name><value>${e.operation}</value></member>` +
    `<member><name>ref</name><value>${e.ref}</value></member>`;
  if (e.snapshot) out += `<member><name>snapshot</name>${encodeRecord(e.snapshot, e.cls)}</member>`;
  return out + "</struct></value>";
}

function encodeUntyped(v: unknown): string {
  if (typeof v === "boolean") return encodeValue(v, { kind: "bool" });
  if (typeof v === "number")
    return Number.isInteger(v) ? encodeValue(v, { kind: "int" }) : encodeValue(v, { kind: "float" });
  if (Array.isArray(v)) return `<value><array><data>${v.map(encodeUntyped).join("")}</data></array></value>`;
  if (v && typeof v === "object") {
    return `<value><struct>${Object.entries(v)
      .map(([k, x]) => `<member><name>${escapeXml(k)}</name>${encodeUntyped(x)}</member>`)
      .join("")}</struct></value>`;
  }
  return `<value>${escapeXml(String(v ?? ""))}</value>`;
}

const HEAD = '<?xml version="1.0"?><methodResponse><params><param>';
const TAIL = "</param></params></methodResponse>";

export function successResponse(valueXml: string): string {
  const status = "<member><name>Status</name><value>Success</value></member>";
  return `${HEAD}<value><struct>${status}<member><name>Value</name>${valueXml}</member></struct></value>${TAIL}`;
}

export function failureResponse(description: string[]): string {
  return `${HEAD}<value><struct><member><name>Status</name><value>Failure</value></member><member><name>ErrorDescription</name><value><array><data>${description
    .map((d) => `<value>${escapeXml(d)}</value>`)
    .join("")}</data></array></value></member></struct></value>${TAIL}`;
}

/** `system.listMethods` is not wrapped in Status/Value. */
export function bareResponse(valueXml: string): string {
  return `${HEAD}${valueXml}${TAIL}`;
}
