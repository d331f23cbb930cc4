/** The simulator most suites start: user root, password "pw", no delay after a failed login; and a client on it. */
import { startSimulator, type Simulator, type SimulatorOptions } from "../../../simulator";
import { Client } from "./rpc";

export async function startWithClient(opts: SimulatorOptions = {}): Promise<{ sim: Simulator; c: Client }> {
  const sim = await startSimulator({ password: "pw", loginFailureDelayMs: 0, ...opts });
  return { sim, c: await new Client(sim.url).login() };
}
