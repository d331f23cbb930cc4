// Vm: a VM cloned from a template, with CPU and memory, disks, NICs, CD, firmware, cloud-init, power state and
// guest addresses. Every change is classified (classify.ts) and said at preview; see docs/resources/vm.md.
import type { DiffResult, ReadResult, ResourceContext } from "../registry";
import { xapiFor } from "../common/connection";
import { assertSamePool, connectionAndAdoption, forcedReplaces } from "../common/objects";
import type { Inputs, Outputs } from "./inputs";
import { classify, describe, isUp } from "./classify";
import { knownVdis, liveInputs, outputsOf, readLive } from "./live";
import { refusal } from "./update";

export { inputSchema, outputSchema } from "./inputs";
export { check } from "./check";
export { create } from "./create";
export { update } from "./update";
export { delete_ as delete } from "./delete";

/** The resource's name for preview lines: the Pulumi name from the identity, else the VM's name. */
function nameOf(n: Inputs): string {
  return n.identity ? n.identity.slice(n.identity.lastIndexOf("/") + 1) : n.name;
}

export async function diff(
  id: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  ctx?: ResourceContext,
): Promise<DiffResult> {
  const o = olds as unknown as Outputs;
  const n = news as unknown as Inputs;
  const which = connectionAndAdoption(id, o, n);
  const changes = classify(o, n).filter((c) => !(which.keepsAdoption && c.kind === "replace"));
  const replaces = which.replaces;
  for (const c of changes) if (c.kind === "replace") replaces.push(c.field);
  forcedReplaces(replaces, ctx);
  const name = nameOf(n);
  if (replaces.length) {
    process.stderr.write(`pulumi-xenserver: ${name}: ${replaces.join(", ")} changed: replaces the VM\n`);
  } else {
    const cold = changes.filter((c) => c.kind === "cold").map((c) => c.field);
    if (cold.length && isUp(o.powerState) && n.updatePolicy === "fail") throw new Error(refusal(n, cold));
    for (const c of changes) process.stderr.write(`pulumi-xenserver: ${describe(name, c, n, o.powerState)}\n`);
  }
  // A disk attached from a Vdi resource (or a fixed MAC) cannot be on two VMs at once: the old VM goes first.
  const exclusive =
    (n.disks ?? []).some((d) => d.vdi !== undefined) || (n.networkInterfaces ?? []).some((x) => x.mac !== undefined);
  return {
    changes: replaces.length > 0 || changes.length > 0 || which.updates,
    replaces,
    ...(replaces.length && exclusive ? { deleteBeforeReplace: true } : {}),
  };
}

export async function read(id: string, props: Record<string, unknown>, ctx: ResourceContext): Promise<ReadResult> {
  const o = props as unknown as Outputs;
  const xapi = await xapiFor(ctx.config, o.connection);
  const live = await readLive(xapi, id, knownVdis(o));
  if (!live) {
    await assertSamePool(xapi, "VM", id, o); // "not found" in another pool is refused, not taken for a deletion
    return { id: "" };
  }
  const inputs = await liveInputs(xapi, live, o, !!ctx.referenceOnly);
  const outs = await outputsOf(xapi, live, { ...inputs, cloudInit: o.cloudInit }, o);
  return {
    id,
    props: outs as unknown as Record<string, unknown>,
    inputs: inputs as unknown as Record<string, unknown>,
  };
}
