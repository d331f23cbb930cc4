/** Byte-exact JSON-RPC fixtures, shaped as docs/xapi-semantics.md §1.4 describes xapi's /jsonrpc. */
import { decodeJsonResponse, encodeJsonCall } from "../../../provider/xapi/codec-jsonrpc";

const SESSION = "OpaqueRef:0f3e42d6-58c9-4c0b-8e5f-6b1b0d5a3c11";
const VM = "OpaqueRef:9a1c2b3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";

describe("JSON-RPC request encoding", () => {
  it("writes a v2 request with an integer id and params as an array", () => {
    expect(encodeJsonCall("VM.get_record", [SESSION, VM], 7)).toBe(
      `{"jsonrpc":"2.0","method":"VM.get_record","params":["${SESSION}","${VM}"],"id":7}`,
    );
  });

  it("sends booleans as JSON booleans, ints as numbers, empty arrays and objects as themselves", () => {
    expect(
      encodeJsonCall("VM.create", [SESSION, { is_a_template: false, VCPUs_max: 2, tags: [], platform: {} }], 1),
    ).toBe(
      `{"jsonrpc":"2.0","method":"VM.create","params":["${SESSION}",{"is_a_template":false,"VCPUs_max":2,"tags":[],"platform":{}}],"id":1}`,
    );
  });

  it("sends Dates as xapi datetimes, not JavaScript's ISO form", () => {
    expect(encodeJsonCall("x.y", [new Date(Date.UTC(2025, 2, 19, 4, 16, 24))], 1)).toBe(
      `{"jsonrpc":"2.0","method":"x.y","params":["20250319T04:16:24Z"],"id":1}`,
    );
  });

  it("escapes quotes and control characters and keeps non-ASCII text", () => {
    expect(encodeJsonCall("VM.set_name_label", [SESSION, VM, 'a "b"\n é 日本'], 2)).toBe(
      `{"jsonrpc":"2.0","method":"VM.set_name_label","params":["${SESSION}","${VM}","a \\"b\\"\\n é 日本"],"id":2}`,
    );
  });

  it("sends doubles, nested maps, the null ref and empty containers exactly", () => {
    expect(encodeJsonCall("event.from", [SESSION, ["VM", "task"], "", 60.1], 4)).toBe(
      `{"jsonrpc":"2.0","method":"event.from","params":["${SESSION}",["VM","task"],"",60.1],"id":4}`,
    );
    expect(
      encodeJsonCall(
        "VM.create",
        [
          SESSION,
          {
            affinity: "OpaqueRef:NULL",
            other_config: { "xo:a": "1", nested: "{}" },
            platform: { "cores-per-socket": "2" },
            tags: [],
            VCPUs_params: {},
          },
        ],
        5,
      ),
    ).toBe(
      `{"jsonrpc":"2.0","method":"VM.create","params":["${SESSION}",{"affinity":"OpaqueRef:NULL",` +
        `"other_config":{"xo:a":"1","nested":"{}"},"platform":{"cores-per-socket":"2"},"tags":[],"VCPUs_params":{}}],"id":5}`,
    );
  });

  it("refuses integers a JS number cannot hold exactly (1e21 would reach xapi as a float)", () => {
    expect(() => encodeJsonCall("VDI.resize", [SESSION, VM, 1e21], 1)).toThrow(
      /the integer 1e\+21 at parameter 3 is too large/,
    );
    expect(encodeJsonCall("VDI.resize", [SESSION, VM, 2 ** 53 - 1], 1)).toContain(",9007199254740991]");
  });

  it("refuses null, undefined and non-finite numbers", () => {
    expect(() => encodeJsonCall("x.y", [null], 1)).toThrow(/cannot encode/);
    expect(() => encodeJsonCall("x.y", [{ a: Infinity }], 1)).toThrow(/parameter 1\.a/);
  });
});

describe("JSON-RPC response decoding", () => {
  it("reads a v2 success", () => {
    expect(decodeJsonResponse(`{"jsonrpc":"2.0","result":"${VM}","id":7}`)).toEqual({ ok: true, value: VM });
  });

  it("reads a v1 success", () => {
    expect(decodeJsonResponse(`{"result":["${VM}"],"error":null,"id":7}`)).toEqual({ ok: true, value: [VM] });
  });

  it("reads a v2 error: code 1, the XAPI code in message, params in data", () => {
    expect(
      decodeJsonResponse(
        `{"jsonrpc":"2.0","error":{"code":1,"message":"HANDLE_INVALID","data":["VM","${VM}"]},"id":7}`,
      ),
    ).toEqual({
      ok: false,
      error: ["HANDLE_INVALID", "VM", VM],
    });
  });

  it("reads a v1 error array", () => {
    expect(decodeJsonResponse(`{"result":null,"error":["SESSION_INVALID","${SESSION}"],"id":7}`)).toEqual({
      ok: false,
      error: ["SESSION_INVALID", SESSION],
    });
  });

  it("reads the array error with id 0 that xapi sends from outside the dispatcher", () => {
    expect(decodeJsonResponse(`{"jsonrpc":"2.0","error":["HOST_IS_SLAVE","192.0.2.10"],"id":0}`)).toEqual({
      ok: false,
      error: ["HOST_IS_SLAVE", "192.0.2.10"],
    });
  });

  it("reads a v2 error without data as a code without params", () => {
    expect(decodeJsonResponse(`{"jsonrpc":"2.0","error":{"code":1,"message":"EVENTS_LOST"},"id":3}`)).toEqual({
      ok: false,
      error: ["EVENTS_LOST"],
    });
  });

  it("decodes a whole record: float, bool, int, empty array and object, nested map, escaped and raw non-ASCII text", () => {
    const body =
      `{"jsonrpc":"2.0","result":{"uuid":"a","name_label":"caf\\u00e9 \\ud83d\\ude80 日本",` +
      `"name_description":"tab\\there \\"q\\" \\\\","is_a_template":false,` +
      `"memory_static_max":4294967296,"VCPUs_utilisation":{"0":0.25},"other_config":{"a":"1","b":""},"tags":[],"blocked_operations":{},` +
      `"affinity":"OpaqueRef:NULL","progress":1.0},"id":9}`;
    expect(decodeJsonResponse(body)).toEqual({
      ok: true,
      value: {
        uuid: "a",
        name_label: "café 🚀 日本",
        name_description: 'tab\there "q" \\',
        is_a_template: false,
        memory_static_max: 4294967296,
        VCPUs_utilisation: { "0": 0.25 },
        other_config: { a: "1", b: "" },
        tags: [],
        blocked_operations: {},
        affinity: "OpaqueRef:NULL",
        progress: 1,
      },
    });
  });

  it('treats void ("") as a value', () => {
    expect(decodeJsonResponse(`{"jsonrpc":"2.0","result":"","id":1}`)).toEqual({ ok: true, value: "" });
  });

  it("tells truncated JSON, an HTML page and garbage apart", () => {
    expect(() => decodeJsonResponse(`{"jsonrpc":"2.0","result":{"a":`)).toThrow(
      expect.objectContaining({ kind: "malformed" }),
    );
    expect(() => decodeJsonResponse("<html><body>500</body></html>")).toThrow(
      expect.objectContaining({ kind: "not-xapi" }),
    );
    expect(() => decodeJsonResponse("garbage")).toThrow(expect.objectContaining({ kind: "not-xapi" }));
    expect(() => decodeJsonResponse(`{"jsonrpc":"2.0","id":1}`)).toThrow(expect.objectContaining({ kind: "not-xapi" }));
  });
});
