// Vm: a VM cloned from a template, with CPU and memory, disks, NICs, CD, firmware, cloud-init, power state and
// guest addresses. Every change is classified (classify.ts) and said at preview; see docs/resources/vm.md.
import { z } from "zod";
import { stateSchemas } from "../boundary";
import type { DiffResult, Prior, ReadResult, ResourceContext, ResourceModule } from "../contract";
import { xapiFor } from "../common/connection";
import { connectionAndAdoption } from "../common/adoption";
import { forcedReplaces } from "../common/forced-replaces";
import { assertSamePool } from "../common/same-pool";
import { reportNotice } from "../common/progress";
import { inputSchema, outputSchema, type Inputs, type Outputs } from "./inputs";
import { classify, describe, isUp } from "./classify";
import { outputsOf, readLive, readRefusals } from "./live";
import { dependsOnGuest, withRefusals } from "./hotplug";
import { comparison, recordsOfLive } from "./comparison";
import { refusal } from "./update";

import { check } from "./check";
import { create } from "./create";
import { update } from "./update";
import { delete_ } from "./delete";

export { inputSchema, outputSchema };

/** The resource's name for preview lines: the Pulumi name from the identity, else the VM's name. */
function nameOf(n: Inputs): string {
  return n.identity ? n.identity.slice(n.identity.lastIndexOf("/") + 1) : n.name;
}

async function diff(id: string, olds: Prior<Outputs>, n: Inputs, ctx?: ResourceContext): Promise<DiffResult> {
  const o = olds as Outputs; // as in update.ts
  const which = connectionAndAdoption(id, o, n);
  let changes = classify(o, n).filter((c) => !(which.keepsAdoption && c.kind === "replace"));
  // A live change the guest would refuse (no PV drivers, a paused VM…) is said at preview as a restart.
  const replacing = which.replaces.length > 0 || changes.some((c) => c.kind === "replace");
  if (ctx && !replacing && isUp(o.powerState) && dependsOnGuest(changes, n)) {
    const needCd = changes.some((c) => c.field === "cdrom");
    const refusals = await readRefusals(await xapiFor(ctx.config, o.connection), id, needCd);
    if (refusals) changes = withRefusals(changes, n, refusals);
  }
  const replaces = which.replaces;
  for (const c of changes) if (c.kind === "replace") replaces.push(c.field);
  forcedReplaces(replaces, ctx);
  const name = nameOf(n);
  if (replaces.length) {
    reportNotice(`${name}: ${replaces.join(", ")} changed: replaces the VM`);
  } else {
    const cold = changes.filter((c) => c.kind === "cold");
    if (cold.length && isUp(o.powerState) && n.updatePolicy === "fail") throw new Error(refusal(n, cold));
    for (const c of changes) reportNotice(describe(name, c, n, o.powerState));
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

async function read(id: string, olds: Prior<Outputs>, ctx: ResourceContext): Promise<ReadResult<Inputs, Outputs>> {
  const o = olds as Outputs; // as in update.ts
  const xapi = await xapiFor(ctx.config, o.connection);
  const live = await readLive(xapi, id);
  if (!live) {
    await assertSamePool(xapi, "VM", id, o); // "not found" in another pool is refused, not taken for a deletion
    return { id: "" };
  }
  // The same observe() xen-drift runs, over the records just read.
  const seen = (await comparison.observe(id, o, recordsOfLive(xapi, live), !!ctx.referenceOnly))!;
  const inputs = { ...seen.inputs } as Inputs;
  delete inputs.cloudInit; // userData may be a secret: a refresh hands back its digest (cloudInitHash), not the text
  const outs = await outputsOf(xapi, live, { ...inputs, cloudInit: o.cloudInit }, o);
  return { id, props: outs, inputs };
}

/** The Vm kind (contract.ts); registry.ts serves it. */
export const resource: ResourceModule<Inputs, Outputs> = {
  kind: "Vm",
  inputSchema,
  schemas: stateSchemas(inputSchema, outputSchema, { cloudInitHash: z.string() }),
  check,
  diff,
  create,
  read,
  update,
  delete: delete_,
  comparison,
};
