/**
 * Interop: Xen Orchestra's `xen-api` client (a mainstream client no one here wrote) against the simulator,
 * over JSON-RPC and XML-RPC. Where the client and the simulator disagree, the simulator is wrong.
 */
import { execFile } from "child_process";
import * as path from "path";
import { startSimulator, Simulator } from "../../simulator";

interface Seen {
  connect: { status: string; poolMaster: string; vms: number; srs: number; hosts: number };
  cacheTypes: { memory_static_max: string; is_a_template: string; hostAddress: string; masterName: string };
  callCount: number;
  asyncClone: { ref: string; cachedName: string; isTemplate: boolean };
  setField: string;
  setFieldEntry: string;
  syncError: { error: { code: string; params: string[] } };
  asyncError: { error: { code: string; params: string[] } };
  paramCount: { error: { code: string; params: string[] } };
  destroyEvent: boolean;
  tasksCleaned: number;
}

function drive(url: string, transport: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(__dirname, "xo-driver.mjs"), url, transport, "root", "pw"],
      { timeout: 60000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split("\n").pop()!) as Seen);
      },
    );
  });
}

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0 });
});
afterAll(() => sim.close());

describe.each([["json-rpc"], ["xml-rpc"], ["auto"]])("xen-api over %s", (transport) => {
  let seen: Seen;
  let vmsBefore: number;
  beforeAll(async () => {
    sim.calls.clear();
    vmsBefore = sim.store.table("VM").size;
    seen = await drive(sim.url, transport);
  }, 60000);

  it("connects and fills its object cache from get_all_records and event.from", () => {
    expect(seen.connect.status).toBe("connected");
    expect(seen.connect.poolMaster).toMatch(/^OpaqueRef:/);
    expect(seen.connect.vms).toBe(vmsBefore);
    expect(seen.connect.hosts).toBe(1);
    expect(seen.cacheTypes.masterName).toBe("sim-host-1");
    const counts = sim.calls.counts();
    expect(counts["event.inject"]).toBeGreaterThanOrEqual(1);
    expect(counts["event.from"]).toBeGreaterThanOrEqual(1);
    expect(counts["system.listMethods"]).toBeGreaterThanOrEqual(1);
  });

  it("decodes values with the transport's types (ints are strings over XML-RPC, numbers over JSON-RPC)", () => {
    expect(seen.cacheTypes.is_a_template).toBe("boolean");
    expect(seen.cacheTypes.memory_static_max).toBe(transport === "xml-rpc" ? "string" : "number");
  });

  it("runs Async.VM.clone and reads the task result", () => {
    expect(seen.asyncClone.ref).toMatch(/^OpaqueRef:/);
    expect(seen.asyncClone.cachedName).toBe("xo-clone");
    expect(seen.asyncClone.isTemplate).toBe(true);
  });

  it("sees field setters through events (barrier on pool.other_config)", () => {
    expect(seen.setField).toBe("xo-renamed");
    expect(seen.setFieldEntry).toBe("two");
  });

  it("gets XAPI error codes and params, synchronously and through tasks", () => {
    expect(seen.syncError.error).toMatchObject({ code: "HANDLE_INVALID", params: ["VM", "OpaqueRef:NULL"] });
    expect(seen.asyncError.error.code).toBe("VM_IS_TEMPLATE");
    expect(seen.paramCount.error).toMatchObject({
      code: "MESSAGE_PARAMETER_COUNT_MISMATCH",
      params: ["VM.start", "3", "1"],
    });
  });

  it("removes destroyed objects from its cache on del events", () => {
    expect(seen.destroyEvent).toBe(true);
    expect(seen.callCount).toBe(vmsBefore);
  });

  it("used the transport it was told to (auto settles on JSON-RPC: our content-type passes its exact check)", () => {
    const t = sim.calls.transports();
    if (transport === "xml-rpc") expect(t).toMatchObject({ jsonrpc: 0, xmlrpc: expect.any(Number) });
    else expect(t).toMatchObject({ xmlrpc: 0, jsonrpc: expect.any(Number) });
    expect(t.xmlrpc + t.jsonrpc).toBeGreaterThan(10);
  });

  it("leaves no pending task behind", () => {
    expect(seen.tasksCleaned).toBe(0);
  });
});

describe("xen-api over HTTPS (self-signed certificate, allowUnauthorized)", () => {
  let tls: Simulator;
  let seen: Seen;
  beforeAll(async () => {
    tls = await startSimulator({ password: "pw", loginFailureDelayMs: 0, tls: true });
    seen = await drive(tls.url, "json-rpc");
  }, 60000);
  afterAll(() => tls.close());

  it("connects, clones through a task and sees the events", () => {
    expect(seen.connect.status).toBe("connected");
    expect(seen.asyncClone.cachedName).toBe("xo-clone");
    expect(seen.setField).toBe("xo-renamed");
    expect(seen.destroyEvent).toBe(true);
  });
});

describe("xen-api against a pool member (hostAddressing: loopback)", () => {
  let pool: Simulator;
  let seen: Seen;
  beforeAll(async () => {
    pool = await startSimulator({ password: "pw", loginFailureDelayMs: 0, hosts: 2, hostAddressing: "loopback" });
    seen = await drive(pool.urls[1], "json-rpc");
  }, 60000);
  afterAll(() => pool.close());

  it("follows HOST_IS_SLAVE [master address] to the master and works from there", () => {
    expect(pool.urls[1]).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
    expect(seen.connect).toMatchObject({ status: "connected", hosts: 2 });
    expect(seen.cacheTypes.masterName).toBe("sim-host-1");
    expect(seen.asyncClone.cachedName).toBe("xo-clone");
  });
});
