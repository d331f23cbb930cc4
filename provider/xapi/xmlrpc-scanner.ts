/**
 * A single-pass reader for the XML-RPC subset xapi writes (docs/xapi-semantics.md §1.3: no attributes, comments, CDATA
 * or DOCTYPE; the five predefined entities and character references). It is the fast path of
 * codec-xmlrpc.ts: on anything outside that subset it returns undefined and the general parser
 * (fast-xml-parser) reads the document instead, so both give the same values.
 * Why: `VM.get_all_records` on a large pool is megabytes of XML; a general DOM build costs several times more.
 */

class Unsupported extends Error {}
const UNSUPPORTED = new Unsupported();

const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g;
const OTHER_AMPERSAND = /&(?!(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);)/;

function decodeEntities(s: string): string {
  if (OTHER_AMPERSAND.test(s)) throw UNSUPPORTED;
  return s.replace(ENTITY, (_m, e: string) => {
    switch (e) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
    }
    const cp = e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return String.fromCodePoint(cp);
  });
}

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

class Scanner {
  pos = 0;
  constructor(readonly s: string) {}

  ws(): void {
    const s = this.s;
    let p = this.pos;
    while (p < s.length && isWs(s.charCodeAt(p))) p++;
    this.pos = p;
  }

  /** Consumes `lit` (after optional whitespace) or throws. */
  expect(lit: string): void {
    this.ws();
    if (!this.s.startsWith(lit, this.pos)) throw UNSUPPORTED;
    this.pos += lit.length;
  }

  peek(lit: string): boolean {
    this.ws();
    return this.s.startsWith(lit, this.pos);
  }

  /** Raw text up to the next "<". A "&" outside the known entities or a stray ">" is left to the general parser. */
  text(): string {
    const end = this.s.indexOf("<", this.pos);
    if (end < 0) throw UNSUPPORTED;
    const raw = this.s.slice(this.pos, end);
    this.pos = end;
    return raw.indexOf("&") < 0 ? raw : decodeEntities(raw);
  }

  /** The text of a scalar tag whose `<tag` was consumed: `/>` (empty) or `>text</tag>`. */
  scalar(tag: string): string {
    const s = this.s;
    if (s.startsWith("/>", this.pos)) {
      this.pos += 2;
      return "";
    }
    if (s.charCodeAt(this.pos) !== 62) throw UNSUPPORTED; // ">"
    this.pos++;
    const t = this.text();
    if (!s.startsWith(`</${tag}>`, this.pos)) throw UNSUPPORTED;
    this.pos += tag.length + 3;
    return t;
  }

  /** A `<value>` element. */
  value(): unknown {
    this.expect("<value");
    const s = this.s;
    if (s.startsWith("/>", this.pos)) {
      this.pos += 2;
      return "";
    }
    if (s.charCodeAt(this.pos) !== 62) throw UNSUPPORTED;
    this.pos++;
    const start = this.pos;
    const t = this.text();
    // `<value>text</value>`: an untyped string (whitespace kept).
    if (s.startsWith("</value>", this.pos)) {
      this.pos += 8;
      return t;
    }
    // Whitespace before a typed child is skipped; any other text next to a tag is not XML-RPC.
    for (let i = start; i < this.pos; i++) if (!isWs(s.charCodeAt(i))) throw UNSUPPORTED;
    const v = this.typed();
    this.expect("</value>");
    return v;
  }

  private typed(): unknown {
    const s = this.s;
    if (s.charCodeAt(this.pos) !== 60) throw UNSUPPORTED;
    const p = this.pos + 1;
    if (s.startsWith("struct", p)) {
      this.pos = p + 6;
      return this.struct();
    }
    if (s.startsWith("array", p)) {
      this.pos = p + 5;
      return this.array();
    }
    if (s.startsWith("string", p)) {
      this.pos = p + 6;
      return this.scalar("string");
    }
    if (s.startsWith("boolean", p)) {
      this.pos = p + 7;
      return this.scalar("boolean").trim() === "1";
    }
    if (s.startsWith("double", p)) {
      this.pos = p + 6;
      const t = this.scalar("double").trim();
      if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
      return Number(t);
    }
    if (s.startsWith("int", p) || s.startsWith("i4", p) || s.startsWith("i8", p)) {
      const tag = s.startsWith("int", p) ? "int" : s.slice(p, p + 2);
      this.pos = p + tag.length;
      return Number(this.scalar(tag).trim());
    }
    if (s.startsWith("dateTime.iso8601", p)) {
      this.pos = p + 16;
      return this.scalar("dateTime.iso8601").trim();
    }
    if (s.startsWith("base64", p)) {
      this.pos = p + 6;
      return this.scalar("base64").trim();
    }
    if (s.startsWith("nil", p)) {
      this.pos = p + 3;
      this.scalar("nil");
      return null;
    }
    throw UNSUPPORTED;
  }

  private struct(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const s = this.s;
    if (s.startsWith("/>", this.pos)) {
      this.pos += 2;
      return out;
    }
    if (s.charCodeAt(this.pos) !== 62) throw UNSUPPORTED;
    this.pos++;
    for (;;) {
      this.ws();
      if (s.startsWith("</struct>", this.pos)) {
        this.pos += 9;
        return out;
      }
      if (!s.startsWith("<member>", this.pos)) throw UNSUPPORTED;
      this.pos += 8;
      this.expect("<name");
      const name = this.scalar("name");
      const v = this.value();
      if (name === "__proto__")
        Object.defineProperty(out, name, { value: v, enumerable: true, writable: true, configurable: true });
      else out[name] = v;
      this.expect("</member>");
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    const s = this.s;
    if (s.startsWith("/>", this.pos)) {
      this.pos += 2;
      return out;
    }
    if (s.charCodeAt(this.pos) !== 62) throw UNSUPPORTED;
    this.pos++;
    this.expect("<data");
    if (s.startsWith("/>", this.pos)) {
      this.pos += 2;
      this.expect("</array>");
      return out;
    }
    if (s.charCodeAt(this.pos) !== 62) throw UNSUPPORTED;
    this.pos++;
    for (;;) {
      this.ws();
      if (s.startsWith("</data>", this.pos)) {
        this.pos += 7;
        this.expect("</array>");
        return out;
      }
      out.push(this.value());
    }
  }

  end(): void {
    this.ws();
    if (this.pos !== this.s.length) throw UNSUPPORTED;
  }
}

/** The `<value>` of a `<methodResponse><params><param>`, or undefined when the general parser must decide. */
export function scanMethodResponseValue(body: string): { value: unknown } | undefined {
  try {
    const sc = new Scanner(body);
    sc.ws();
    if (sc.s.startsWith("<?xml", sc.pos)) {
      const end = sc.s.indexOf("?>", sc.pos);
      if (end < 0) return undefined;
      sc.pos = end + 2;
    }
    sc.expect("<methodResponse>");
    sc.expect("<params>");
    sc.expect("<param>");
    const value = sc.value();
    sc.expect("</param>");
    sc.expect("</params>");
    sc.expect("</methodResponse>");
    sc.end();
    return { value };
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

/** A lone `<value>` fragment (task results), or undefined when the general parser must decide. */
export function scanValueFragment(fragment: string): { value: unknown } | undefined {
  try {
    const sc = new Scanner(fragment);
    const value = sc.value();
    sc.end();
    return { value };
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}
