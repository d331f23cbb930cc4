/** Byte-exact XML-RPC fixtures, shaped as docs/xapi-semantics.md §1.2–§1.3 and §4.2 describe xapi's wire. */
import {
  decodeXmlResponse,
  decodeXmlValueFragment,
  encodeXmlCall,
  encodeXmlValue,
} from "../../../provider/xapi/codec-xmlrpc";

const SESSION = "OpaqueRef:0f3e42d6-58c9-4c0b-8e5f-6b1b0d5a3c11";
const VM = "OpaqueRef:9a1c2b3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";

/** xapi's non-strict success envelope around one value, no newlines (§1.3). */
const success = (value: string): string =>
  `<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>Status</name>` +
  `<value>Success</value></member><member><name>Value</name>${value}</member></struct></value></param>` +
  `</params></methodResponse>`;

describe("XML-RPC request encoding", () => {
  it("writes a methodCall exactly as §1.2 shows: prolog, untagged string params, no whitespace", () => {
    expect(encodeXmlCall("VM.get_record", [SESSION, VM])).toBe(
      `<?xml version="1.0"?><methodCall><methodName>VM.get_record</methodName><params><param>` +
        `<value>${SESSION}</value></param><param><value>${VM}</value></param></params></methodCall>`,
    );
  });

  it("always writes <params>, even with no parameter", () => {
    expect(encodeXmlCall("system.listMethods", [])).toBe(
      `<?xml version="1.0"?><methodCall><methodName>system.listMethods</methodName><params></params></methodCall>`,
    );
  });

  it("sends booleans as 1 and 0, never true/false (xapi reads <boolean>true</boolean> as false)", () => {
    expect(encodeXmlValue(true)).toBe("<value><boolean>1</boolean></value>");
    expect(encodeXmlValue(false)).toBe("<value><boolean>0</boolean></value>");
  });

  it("sends integers as <int> and fractional numbers as <double>", () => {
    expect(encodeXmlValue(4294967296)).toBe("<value><int>4294967296</int></value>");
    expect(encodeXmlValue(-3)).toBe("<value><int>-3</int></value>");
    expect(encodeXmlValue(0.5)).toBe("<value><double>0.5</double></value>");
  });

  it("sends event.from's timeout as a double even when it is a whole number", () => {
    expect(encodeXmlCall("event.from", [SESSION, ["VM"], "", 60], [undefined, "string set", "string", "float"])).toBe(
      `<?xml version="1.0"?><methodCall><methodName>event.from</methodName><params><param>` +
        `<value>${SESSION}</value></param><param><value><array><data><value>VM</value></data></array></value>` +
        `</param><param><value></value></param><param><value><double>60</double></value></param></params>` +
        `</methodCall>`,
    );
  });

  it("sends Dates as xapi datetimes (basic date, extended time, Z)", () => {
    expect(encodeXmlValue(new Date(Date.UTC(2025, 2, 19, 4, 16, 24)))).toBe(
      "<value><dateTime.iso8601>20250319T04:16:24Z</dateTime.iso8601></value>",
    );
  });

  it("writes empty arrays and structs, nested maps and the null ref", () => {
    expect(encodeXmlValue([])).toBe("<value><array><data></data></array></value>");
    expect(encodeXmlValue({})).toBe("<value><struct></struct></value>");
    expect(encodeXmlValue({ other_config: { "xo:a": "1" }, affinity: "OpaqueRef:NULL", tags: [] })).toBe(
      "<value><struct><member><name>other_config</name><value><struct><member><name>xo:a</name><value>1</value></member></struct></value></member>" +
        "<member><name>affinity</name><value>OpaqueRef:NULL</value></member>" +
        "<member><name>tags</name><value><array><data></data></array></value></member></struct></value>",
    );
  });

  it("escapes &, < and > and writes non-ASCII text as is (UTF-8 on the wire)", () => {
    expect(encodeXmlValue(`a<b>&"c" é 日本`)).toBe(`<value>a&lt;b&gt;&amp;"c" é 日本</value>`);
  });

  it("writes CR as a character reference, so CR LF text is not turned into LF by the server's parser", () => {
    expect(encodeXmlValue("line1\r\nline2\tend")).toBe("<value>line1&#13;\nline2\tend</value>");
  });

  it("refuses characters XML 1.0 cannot carry, without showing the text (it may be a password)", () => {
    for (const bad of ["pass\u0001word", "x\u000by", "\ufffe", "lone \ud800 surrogate"]) {
      const err = (() => {
        try {
          encodeXmlValue(bad);
        } catch (e) {
          return e as Error & { kind: string };
        }
      })();
      expect(err?.kind).toBe("invalid-parameter");
      expect(err?.message).toMatch(/U\+[0-9A-F]{4} at position \d+/);
      expect(err?.message).not.toContain(bad.replace(/[^a-z ]/g, "").slice(0, 4) || "\u0000");
    }
    expect(encodeXmlValue("emoji 🚀")).toBe("<value>emoji 🚀</value>"); // a surrogate pair is fine
  });

  it("refuses integers a JS number cannot hold exactly, and sends bigints within int64", () => {
    expect(() => encodeXmlValue(1e21)).toThrow(/too large to be sent exactly \(past 2\^53 .*a bigint can carry it\)/);
    expect(() => encodeXmlValue(2 ** 53)).toThrow(/bigint/);
    expect(encodeXmlValue(2 ** 53 - 1)).toBe("<value><int>9007199254740991</int></value>");
    expect(encodeXmlValue(9223372036854775807n)).toBe("<value><int>9223372036854775807</int></value>");
    expect(() => encodeXmlValue(2n ** 63n)).toThrow(/does not fit in xapi's int64/);
  });

  it("refuses values XAPI has no encoding for", () => {
    expect(() => encodeXmlValue(null)).toThrow(/cannot encode/);
    expect(() => encodeXmlValue(undefined)).toThrow(/cannot encode/);
    expect(() => encodeXmlValue(Number.NaN)).toThrow(/cannot encode/);
  });
});

describe("XML-RPC response decoding", () => {
  it("reads the success envelope of §1.3 and returns the Value", () => {
    expect(decodeXmlResponse(success(`<value>${VM}</value>`))).toEqual({ ok: true, value: VM });
  });

  it("reads a failure as [code, ...params]", () => {
    const body =
      `<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>Status</name><value>Failure</value></member>` +
      `<member><name>ErrorDescription</name><value><array><data><value>HANDLE_INVALID</value>` +
      `<value>VM</value><value>${VM}</value></data></array></value></member></struct></value></param>` +
      `</params></methodResponse>`;
    expect(decodeXmlResponse(body)).toEqual({ ok: false, error: ["HANDLE_INVALID", "VM", VM] });
  });

  it("decodes every value type of the §1.3 table", () => {
    const value =
      "<value><struct>" +
      "<member><name>name_label</name><value>web-01</value></member>" +
      "<member><name>memory_static_max</name><value>4294967296</value></member>" +
      "<member><name>is_a_template</name><value><boolean>0</boolean></value></member>" +
      "<member><name>HVM_shadow_multiplier</name><value><double>1</double></value></member>" +
      "<member><name>snapshot_time</name><value><dateTime.iso8601>19700101T00:00:00Z</dateTime.iso8601></value></member>" +
      "<member><name>tags</name><value><array><data><value>a</value><value></value></data></array></value></member>" +
      "<member><name>VCPUs_params</name><value><struct></struct></value></member>" +
      "<member><name>blocked_operations</name><value><struct><member><name>destroy</name><value>locked</value></member></struct></value></member>" +
      "<member><name>VBDs</name><value><array><data></data></array></value></member>" +
      "<member><name>name_description</name><value/></member>" +
      "<member><name>count</name><value><i4>5</i4></value></member>" +
      "</struct></value>";
    const out = decodeXmlResponse(success(value));
    expect(out).toEqual({
      ok: true,
      value: {
        name_label: "web-01",
        // an int arrives untagged: it stays a string until the datamodel says otherwise (normalize.ts)
        memory_static_max: "4294967296",
        is_a_template: false,
        HVM_shadow_multiplier: 1,
        snapshot_time: "19700101T00:00:00Z",
        tags: ["a", ""],
        VCPUs_params: {},
        blocked_operations: { destroy: "locked" },
        VBDs: [],
        name_description: "",
        count: 5,
      },
    });
  });

  it("reads <boolean>1</boolean> as true and anything else as false", () => {
    expect(decodeXmlResponse(success("<value><boolean>1</boolean></value>"))).toEqual({ ok: true, value: true });
    expect(decodeXmlResponse(success("<value><boolean>true</boolean></value>"))).toEqual({ ok: true, value: false });
  });

  it("keeps text exactly: entities decoded, spaces kept, non-ASCII intact", () => {
    expect(decodeXmlResponse(success("<value>  a &amp; b &lt;c&gt; &quot;d&quot; é 日本 </value>"))).toEqual({
      ok: true,
      value: '  a & b <c> "d" é 日本 ',
    });
  });

  it("treats void (<value></value>) as the empty string", () => {
    expect(decodeXmlResponse(success("<value></value>"))).toEqual({ ok: true, value: "" });
  });

  it("skips whitespace between tags (pretty-printed responses)", () => {
    const body =
      `<?xml version="1.0"?>\n<methodResponse>\n <params>\n  <param>\n   <value>\n    <struct>\n     ` +
      `<member>\n      <name>Status</name>\n      <value>Success</value>\n     </member>\n     ` +
      `<member>\n      <name>Value</name>\n      <value>\n       <array>\n        <data>\n         ` +
      `<value>x</value>\n        </data>\n       </array>\n      </value>\n     </member>\n    ` +
      `</struct>\n   </value>\n  </param>\n </params>\n</methodResponse>\n`;
    expect(decodeXmlResponse(body)).toEqual({ ok: true, value: ["x"] });
  });

  it("returns system.listMethods' bare array, which xapi does not wrap", () => {
    const body =
      `<?xml version="1.0"?><methodResponse><params><param><value><array><data><value>VM.get_record</value>` +
      `<value>VM.start</value></data></array></value></param></params></methodResponse>`;
    expect(decodeXmlResponse(body)).toEqual({ ok: true, value: ["VM.get_record", "VM.start"] });
  });

  it("tells an HTML page, garbage and a truncated document apart", () => {
    expect(() => decodeXmlResponse("<html><body><h1>HTTP 500 internal server error</h1></body></html>")).toThrow(
      expect.objectContaining({ kind: "not-xapi" }),
    );
    expect(() => decodeXmlResponse("hello")).toThrow(expect.objectContaining({ kind: "not-xapi" }));
    expect(() => decodeXmlResponse(success("<value>abc</value>").slice(0, 120))).toThrow(
      expect.objectContaining({ kind: "malformed" }),
    );
  });
});

describe("task.result fragments (§4.2)", () => {
  it("decodes a ref result", () => {
    expect(decodeXmlValueFragment(`<value>${VM}</value>`)).toBe(VM);
  });
  it("decodes a void result as the empty string, and keeps an empty result empty", () => {
    expect(decodeXmlValueFragment("<value></value>")).toBe("");
    expect(decodeXmlValueFragment("")).toBe("");
  });
  it("decodes a ref set", () => {
    expect(decodeXmlValueFragment(`<value><array><data><value>${VM}</value></data></array></value>`)).toEqual([VM]);
  });
});
