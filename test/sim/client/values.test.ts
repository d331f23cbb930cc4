/** Values survive the round trip through the simulator over both transports: escaping, non-ASCII, maps, ints, bools. */
import type { Simulator } from "../../../simulator";
import { XapiClient, type Ref } from "../../../provider/xapi";
import { connect, sim } from "./sim";

const TRICKY = "a<b>&\"c\" 'd' é 日本 🚀 \t tab";

describe("value round trips", () => {
  let s: Simulator;
  let json: XapiClient;
  let xml: XapiClient;
  let vm: Ref<"VM">;
  beforeAll(async () => {
    s = await sim();
    json = await connect(s, { transport: "jsonrpc" });
    xml = await connect(s, { transport: "xmlrpc" });
    const vms = await json.call("VM.get_all_records");
    const template = Object.entries(vms).find(([, r]) => r.is_a_template)![0];
    vm = await json.call("VM.clone", template as Ref<"VM">, "values");
  });
  afterAll(async () => {
    await json.close();
    await xml.close();
    await s.close();
  });

  it.each(["json", "xml"] as const)("writes over %s what both transports read back identically", async (writer) => {
    const w = writer === "json" ? json : xml;
    await w.call("VM.set_name_label", vm, `${TRICKY} (${writer})`);
    await w.call("VM.set_other_config", vm, { [`key ${TRICKY}`]: TRICKY, empty: "" });
    await w.call("VM.set_VCPUs_max", vm, 4);
    await w.call("VM.set_memory_limits", vm, 2 ** 31, 2 ** 32, 2 ** 31, 2 ** 32);
    await w.call("VM.set_is_a_template", vm, false);
    const fromJson = await json.call("VM.get_record", vm);
    const fromXml = await xml.call("VM.get_record", vm);
    expect(fromXml).toEqual(fromJson);
    expect(fromJson.name_label).toBe(`${TRICKY} (${writer})`);
    expect(fromJson.other_config).toEqual({ [`key ${TRICKY}`]: TRICKY, empty: "" });
    expect(fromXml.VCPUs_max).toBe(4);
    expect(fromXml.memory_static_max).toBe(2 ** 32);
    expect(fromXml.is_a_template).toBe(false);
  });

  const CLASSES = [
    "pool",
    "host",
    "host_metrics",
    "host_cpu",
    "network",
    "PIF",
    "PIF_metrics",
    "VLAN",
    "Bond",
    "SR",
    "PBD",
    "SM",
    "VDI",
    "VBD",
    "VBD_metrics",
    "VIF",
    "VM",
    "VM_metrics",
    "VM_guest_metrics",
    "console",
    "task",
    "secret",
    "message",
  ];

  it.each(CLASSES)("types every %s record identically over XML-RPC and JSON-RPC", async (cls) => {
    const read = (c: XapiClient): Promise<unknown> => c.call(`${cls}.get_all_records`).catch((e: Error) => e.message);
    // Metrics may tick between the two reads: retry a few times until a stable pair is seen.
    let a: unknown, b: unknown;
    for (let i = 0; i < 5; i++) {
      a = await read(json);
      b = await read(xml);
      if (JSON.stringify(a) === JSON.stringify(b)) break;
    }
    expect(typeof a).toBe("object"); // a map of records, not an error
    expect(b).toEqual(a);
  });
});
