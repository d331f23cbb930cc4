// Shared by the resource suites that run against the simulator: a simulated pool
// reached through stack-config-shaped settings, and the engine's check+create and
// check+diff+update sequences.
import { startSimulator, type Simulator, type SimulatorOptions } from "../../../simulator";
import { XapiClient } from "../../../provider/xapi";
import { closeAll } from "../../../provider/resources/common/connection";
import type { EngineResource, ResourceContext } from "../../../provider/resources/contract";

export interface SimulatedPool {
  sim: Simulator;
  xapi: XapiClient;
  ctx: ResourceContext;
}

/** Starts a simulated pool (user root) with a client and a provider context pointing at it. */
export async function startPool(password: string, options: SimulatorOptions = {}): Promise<SimulatedPool> {
  const sim = await startSimulator({ port: 0, username: "root", password, ...options });
  const settings: Record<string, string> = {
    "xenserver:url": sim.url,
    "xenserver:username": "root",
    "xenserver:password": password,
  };
  const ctx: ResourceContext = { config: { get: (k: string) => settings[k] } };
  const xapi = await XapiClient.connect({ url: sim.url, username: "root", password });
  return { sim, xapi, ctx };
}

export async function stopPool(p: SimulatedPool | undefined): Promise<void> {
  await closeAll();
  await p?.xapi.close();
  await p?.sim.close();
}

/** The engine's sequences against the context `ctx()` returns (read when called, so it may be set in beforeAll). */
export function resourceSteps(ctx: () => ResourceContext) {
  /** check + create as the engine does, failing the test on check failures. */
  async function createWith(mod: EngineResource, news: Record<string, unknown>) {
    const checked = await mod.check({}, news, ctx());
    expect(checked.failures).toBeUndefined();
    return { checked: checked.inputs!, ...(await mod.create(checked.inputs!, ctx())) };
  }
  /** check + diff; `run` performs the update. */
  async function updateWith(
    mod: EngineResource,
    id: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ) {
    const checked = await mod.check(olds, news, ctx());
    expect(checked.failures).toBeUndefined();
    const d = await mod.diff(id, olds, checked.inputs!, ctx());
    return { diff: d, checked: checked.inputs!, run: () => mod.update(id, olds, checked.inputs!, ctx()) };
  }
  return { createWith, updateWith };
}
