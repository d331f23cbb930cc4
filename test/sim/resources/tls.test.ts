// A provider user configures TLS through stack config: errors and warnings name those keys.
import { startSimulator, type Simulator } from "../../../simulator";
import { closeAll, inConfigTerms, xapiFor } from "../../../provider/resources/common/connection";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, username: "root", password: "tls-pw", tls: true });
});
afterAll(async () => {
  await closeAll();
  await sim.close();
});

describe("TLS through stack config", () => {
  it("refuses XenServer's self-signed certificate by default, telling which config key pins it", async () => {
    const settings: Record<string, string> = {
      "xenserver:url": sim.url,
      "xenserver:username": "root",
      "xenserver:password": "tls-pw",
    };
    const err = await xapiFor({ get: (k) => settings[k] }, undefined).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/xenserver:tlsFingerprint/);
    expect(err?.message).toContain(sim.fingerprint!);
    expect(err?.message).not.toContain("tls-pw");
  });

  it("connects with the fingerprint pinned in a named profile", async () => {
    const pools = { lab: { url: sim.url, username: "root", password: "tls-pw", tlsFingerprint: sim.fingerprint } };
    const xapi = await xapiFor({ get: (k) => (k === "xenserver:pools" ? JSON.stringify(pools) : undefined) }, "lab");
    expect(await xapi.call<string[]>("pool.get_all")).toHaveLength(1);
  });

  it("names profile keys for a named connection", () => {
    expect(inConfigTerms("pin it with tls.fingerprint, or give the CA with tls.ca", "lab")).toBe(
      "pin it with xenserver:pools.lab.tlsFingerprint, or give the CA with xenserver:pools.lab.caCert",
    );
  });
});
