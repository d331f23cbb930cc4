/** Typed values from the datamodel: the same record decodes to the same value over both transports. */
import { decodeJsonResponse } from "../../../provider/xapi/codec-jsonrpc";
import { decodeXmlResponse } from "../../../provider/xapi/codec-xmlrpc";
import { parseXapiDate, formatXapiDate } from "../../../provider/xapi/datetime";
import { resultConverter } from "../../../provider/xapi/normalize";

const VM = "OpaqueRef:9a1c2b3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";

const xml = (value: string): string =>
  `<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>Status</name>` +
  `<value>Success</value></member><member><name>Value</name>${value}</member></struct></value></param>` +
  `</params></methodResponse>`;

function typed(method: string, outcome: { ok: boolean; value?: unknown }): unknown {
  const conv = resultConverter(method);
  return conv ? conv(outcome.value) : outcome.value;
}

describe("datamodel-driven decoding", () => {
  const xmlRecord = xml(
    "<value><struct>" +
      "<member><name>uuid</name><value>6f1f1a0e-0000-4000-8000-000000000001</value></member>" +
      "<member><name>memory_static_max</name><value>4294967296</value></member>" +
      "<member><name>VCPUs_max</name><value>2</value></member>" +
      "<member><name>HVM_shadow_multiplier</name><value><double>1</double></value></member>" +
      "<member><name>is_a_template</name><value><boolean>0</boolean></value></member>" +
      "<member><name>snapshot_time</name><value><dateTime.iso8601>20250319T04:16:24Z</dateTime.iso8601></value></member>" +
      "<member><name>power_state</name><value>Halted</value></member>" +
      "<member><name>VBDs</name><value><array><data></data></array></value></member>" +
      "<member><name>other_config</name><value><struct><member><name>k</name><value>12</value></member></struct></value></member>" +
      "</struct></value>",
  );
  const jsonRecord = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    result: {
      uuid: "6f1f1a0e-0000-4000-8000-000000000001",
      memory_static_max: 4294967296,
      VCPUs_max: 2,
      HVM_shadow_multiplier: 1,
      is_a_template: false,
      snapshot_time: "20250319T04:16:24Z",
      power_state: "Halted",
      VBDs: [],
      other_config: { k: "12" },
    },
  });

  it("turns int fields sent as XML-RPC strings into numbers, and keeps datetimes as xapi's strings", () => {
    const rec = typed("VM.get_record", decodeXmlResponse(xmlRecord)) as Record<string, unknown>;
    expect(rec.memory_static_max).toBe(4294967296);
    expect(rec.VCPUs_max).toBe(2);
    expect(rec.snapshot_time).toBe("20250319T04:16:24Z");
  });

  it("leaves string-valued maps alone even when a value looks like a number", () => {
    const rec = typed("VM.get_record", decodeXmlResponse(xmlRecord)) as { other_config: Record<string, unknown> };
    expect(rec.other_config).toEqual({ k: "12" });
  });

  it("gives over XML-RPC the record JSON-RPC sends as is", () => {
    const fromJson = decodeJsonResponse(jsonRecord) as { value: unknown };
    expect(typed("VM.get_record", decodeXmlResponse(xmlRecord))).toEqual(fromJson.value);
  });

  it("types every record of get_all_records", () => {
    const body = xml(
      `<value><struct><member><name>${VM}</name><value><struct><member><name>VCPUs_at_startup</name>` +
        `<value>4</value></member></struct></value></member></struct></value>`,
    );
    expect(typed("VM.get_all_records", decodeXmlResponse(body))).toEqual({ [VM]: { VCPUs_at_startup: 4 } });
  });

  it("types event.from batches: valid_ref_counts as numbers, snapshots by their lower-case class", () => {
    const body = xml(
      "<value><struct>" +
        "<member><name>events</name><value><array><data><value><struct>" +
        "<member><name>id</name><value>12</value></member>" +
        "<member><name>timestamp</name><value>0.0</value></member>" +
        "<member><name>class</name><value>vm</value></member>" +
        "<member><name>operation</name><value>mod</value></member>" +
        `<member><name>ref</name><value>${VM}</value></member>` +
        "<member><name>snapshot</name><value><struct><member><name>VCPUs_max</name><value>8</value></member></struct></value></member>" +
        "</struct></value></data></array></value></member>" +
        "<member><name>valid_ref_counts</name><value><struct><member><name>vm</name><value><i4>3</i4></value>" +
        "</member><member><name>task</name><value>0</value></member></struct></value></member>" +
        "<member><name>token</name><value>00000000000000000012,00000000000000000000</value></member>" +
        "</struct></value>",
    );
    expect(typed("event.from", decodeXmlResponse(body))).toEqual({
      events: [{ id: "12", timestamp: "0.0", class: "vm", operation: "mod", ref: VM, snapshot: { VCPUs_max: 8 } }],
      valid_ref_counts: { vm: 3, task: 0 },
      token: "00000000000000000012,00000000000000000000",
    });
  });
});

describe("datetimes", () => {
  it("parses xapi's basic form with and without Z, and RFC 3339", () => {
    const t = Date.UTC(2025, 2, 19, 4, 16, 24);
    expect(parseXapiDate("20250319T04:16:24Z")?.getTime()).toBe(t);
    expect(parseXapiDate("20250319T04:16:24")?.getTime()).toBe(t);
    expect(parseXapiDate("2025-03-19T04:16:24Z")?.getTime()).toBe(t);
    expect(parseXapiDate("2025-03-19T06:16:24+02:00")?.getTime()).toBe(t);
    expect(parseXapiDate("not a date")).toBeUndefined();
  });
  it("formats the epoch as xapi's 'never'", () => {
    expect(formatXapiDate(new Date(0))).toBe("19700101T00:00:00Z");
  });
});
