/** Starts the simulator for a suite and connects clients to it. */
import { startSimulator, type Simulator, type SimulatorOptions } from "../../../simulator";
import { XapiClient, type XapiClientOptions } from "../../../provider/xapi";

export const USER = "root";
export const PASSWORD = "sim-password-7f3a";

export async function sim(opts: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ username: USER, password: PASSWORD, loginFailureDelayMs: 50, ...opts });
}

export async function connect(s: Simulator, opts: Partial<XapiClientOptions> = {}): Promise<XapiClient> {
  return XapiClient.connect({
    url: s.url,
    username: USER,
    password: PASSWORD,
    tls: s.fingerprint ? { fingerprint: s.fingerprint } : undefined,
    // The simulator's hosts share one address on different ports: name them all.
    members: s.urls,
    ...opts,
  });
}

export function recordingLogger(): { lines: string[]; debug(m: string): void; warn(m: string): void } {
  const lines: string[] = [];
  return { lines, debug: (m) => lines.push(`debug ${m}`), warn: (m) => lines.push(`warn ${m}`) };
}
