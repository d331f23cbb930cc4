// The watcher's comparison after an event batch re-compares only the resources whose comparison read something
// the batch changed (an object by ref or UUID, or a class listed whole), and keeps the others' last findings; the
// first comparison of a pool covers every resource.
import { Detector, type PoolWatch } from "../../../provider/drift/detector";
import { comparisons } from "../../../provider/drift/compare";
import { Snapshot, TrackedReads, readKeys } from "../../../provider/drift/snapshot";
import type { ManagedResource } from "../../../provider/drift/state";
import type { WatchEvent } from "../../../provider/xapi/events";
import type { XapiClient } from "../../../provider/xapi";

const net = (uuid: string, name: string, extra: Record<string, unknown> = {}) => ({
  uuid,
  name_label: name,
  name_description: "",
  MTU: 1500,
  bridge: `xapi-${uuid}`,
  PIFs: [] as string[],
  other_config: {},
  tags: [],
  ...extra,
});
const mod = (cls: string, ref: string, record: Record<string, unknown>) =>
  ({ kind: "mod", class: cls, ref, record }) as unknown as WatchEvent;

function managed(name: string, uuid: string, outputs: Record<string, unknown> = {}): ManagedResource {
  return {
    urn: `urn:pulumi:dev::lab::pulumi-nodejs:xenserver:Network::${name}`,
    name,
    kind: "Network",
    id: uuid,
    outputs: { name, description: "", mtu: 1500, otherConfig: {}, tags: [], ...outputs },
    secrets: new Set(),
  };
}

describe("snapshot read keys", () => {
  it("notes what a comparison reads, and what a change touches (the old UUID too)", async () => {
    const s = new Snapshot();
    s.apply(mod("network", "OpaqueRef:n1", net("u1", "a")));
    const reads = new TrackedReads(s);
    await reads.byUuid("network", "u1");
    await reads.all("host");
    expect([...reads.keys].sort()).toEqual(
      [readKeys.uuid("network", "u1"), readKeys.ref("network", "OpaqueRef:n1"), readKeys.all("host")].sort(),
    );
    const touched = new Set<string>();
    s.apply(mod("network", "OpaqueRef:n1", net("u2", "a")), touched);
    expect([...touched].sort()).toEqual(
      [
        readKeys.ref("network", "OpaqueRef:n1"),
        readKeys.all("network"),
        readKeys.uuid("network", "u1"),
        readKeys.uuid("network", "u2"),
      ].sort(),
    );
  });
});

describe("Detector.comparePool(changedOnly)", () => {
  it("re-compares only the readers of what changed, keeping the others' findings", async () => {
    const resources = [managed("a", "ua"), managed("b", "ub"), managed("vlan", "uv", { vlan: 10, nic: "eth1" })];
    const detector = new Detector({ stack: "lab/dev", resources, config: { get: () => undefined } });
    const snapshot = new Snapshot();
    snapshot.apply(mod("network", "OpaqueRef:a", net("ua", "a")));
    snapshot.apply(mod("network", "OpaqueRef:b", net("ub", "b", { MTU: 9000 })));
    snapshot.apply(mod("network", "OpaqueRef:v", net("uv", "vlan", { PIFs: ["OpaqueRef:p1"] })));
    snapshot.apply(mod("PIF", "OpaqueRef:p1", { uuid: "p1", host: "OpaqueRef:h1" }));
    snapshot.apply(mod("host", "OpaqueRef:h1", { uuid: "h1", name_label: "host1" }));
    snapshot.apply(mod("host", "OpaqueRef:h2", { uuid: "h2", name_label: "host2" }));
    const pool: PoolWatch = {
      profile: "default",
      url: "https://pool",
      client: {} as XapiClient,
      snapshot,
      resources,
      classes: ["network", "PIF", "host"],
      resyncs: 0,
      findings: new Map(),
      readers: new Map(),
      reads: new Map(),
      touched: new Set(),
      complete: false,
    };
    const observe = jest.spyOn(comparisons.Network, "observe");
    const compared = () => observe.mock.calls.map(([id]) => id).sort();

    // The first comparison covers everything, even when asked for the changes only.
    let found = await detector.comparePool(pool, new Date(), true);
    expect(compared()).toEqual(["ua", "ub", "uv"]);
    expect(found.map((f) => [f.name, f.changes.map((c) => c.path)])).toEqual([
      ["b", ["mtu"]],
      ["vlan", ["missingOn"]],
    ]);

    // A's name changes: only a is compared again; b's finding is kept.
    observe.mockClear();
    snapshot.apply(mod("network", "OpaqueRef:a", net("ua", "renamed")), pool.touched);
    found = await detector.comparePool(pool, new Date(), true);
    expect(compared()).toEqual(["ua"]);
    expect(found.map((f) => f.name).sort()).toEqual(["a", "b", "vlan"]);

    // A host renamed: only the VLAN network, which lists the hosts, is compared again; its missingOn follows.
    observe.mockClear();
    snapshot.apply(mod("host", "OpaqueRef:h2", { uuid: "h2", name_label: "host2-renamed" }), pool.touched);
    found = await detector.comparePool(pool, new Date(), true);
    expect(compared()).toEqual(["uv"]);
    expect(found.find((f) => f.name === "vlan")?.changes).toEqual([
      { path: "missingOn", expected: [], actual: ["host2-renamed"] },
    ]);

    // An unrelated network: nothing to compare.
    observe.mockClear();
    snapshot.apply(mod("network", "OpaqueRef:x", net("ux", "other")), pool.touched);
    await detector.comparePool(pool, new Date(), true);
    expect(compared()).toEqual([]);
    observe.mockRestore();
  });
});
