// Lookups find pool objects by name, uuid or tags; an ambiguous name is an error
// that lists the candidates.
import * as pulumi from "@pulumi/pulumi";
import { startSimulator, type Simulator } from "../../../simulator";
import { XapiClient } from "../../../provider/xapi";
import { getHost, getHosts, getNetwork, getPif, getPool, getSr, getTemplate, getVdi } from "../../../sdk/lookups";

let sim: Simulator;
let xapi: XapiClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, username: "root", password: "lookup-pw", hosts: 2 });
  pulumi.runtime.setConfig("xenserver:url", sim.url);
  pulumi.runtime.setConfig("xenserver:username", "root");
  pulumi.runtime.setConfig("xenserver:password", "lookup-pw");
  xapi = await XapiClient.connect({ url: sim.url, username: "root", password: "lookup-pw" });
});
afterAll(async () => {
  await xapi.close();
  await sim.close();
});

describe("lookups", () => {
  it("describes the pool and its hosts", async () => {
    const pool = await getPool();
    const hosts = await getHosts();
    expect(hosts.map((h) => h.name)).toEqual(["sim-host-1", "sim-host-2"]);
    expect(pool.hostUuids).toEqual(hosts.map((h) => h.uuid).sort());
    expect(hosts.map((h) => h.uuid)).toContain(pool.masterUuid);
    expect((await getHost({ name: "sim-host-2" })).uuid).toBe(hosts[1].uuid);
  });

  it("finds a NIC by XenCenter name on a named host", async () => {
    const pif = await getPif({ device: "NIC 1", host: "sim-host-2" });
    expect(pif.device).toBe("eth1");
    expect(pif.management).toBe(false);
    await expect(getPif({ device: "eth7" })).rejects.toThrow(
      /no NIC "eth7" on sim-host-1 \(NICs: eth0, eth1, eth2, eth3\)/,
    );
  });

  it("reports an ambiguous name with its candidates", async () => {
    // Every host has its own "Local storage".
    await expect(getSr({ name: "Local storage" })).rejects.toThrow(
      /name "Local storage" is ambiguous; candidates: [0-9a-f-]{36} \("Local storage"\), [0-9a-f-]{36} \("Local storage"\); select by uuid/,
    );
    const iso = await getSr({ name: "ISO library" });
    expect(iso).toMatchObject({ type: "iso", contentType: "iso", shared: true });
  });

  it("finds networks, disks and templates by name, uuid or tags", async () => {
    const net = await getNetwork({ name: "Pool-wide network associated with eth2" });
    expect((await getNetwork({ uuid: net.uuid })).bridge).toBe(net.bridge);
    const iso = await getSr({ name: "ISO library" });
    const lvm =
      (await getHosts()).length &&
      (await xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records"));
    const local = Object.values(lvm).find((s) => s.type === "lvm")!.uuid;
    const sr = await xapi.call<string>("SR.get_by_uuid", local);
    const vdiRef = await xapi.call<string>("VDI.create", {
      SR: sr,
      virtual_size: 1 << 30,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
      name_label: "golden",
      tags: ["base", "linux"],
    });
    const vdi = await getVdi({ tags: ["base"] });
    expect(vdi).toMatchObject({ name: "golden", srUuid: local, virtualSize: 1 << 30 });
    await xapi.call("VDI.destroy", vdiRef);
    expect(iso.uuid).not.toBe(local);
    const template = await getTemplate({ name: "Debian Bookworm 12" });
    expect(template.isDefault).toBe(true);
    await expect(getTemplate({ name: "Windows 95" })).rejects.toThrow(
      /no template with name "Windows 95" \(available: /,
    );
  });

  it("needs exactly one selector", async () => {
    await expect(getNetwork({})).rejects.toThrow(/give exactly one of name, uuid or tags/);
  });
});
