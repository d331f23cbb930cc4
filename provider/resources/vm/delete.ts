// delete(): shut the VM down (clean with a timeout, then hard), destroy it (xapi destroys its VBDs and VIFs), then
// the disks this resource made: the template's and the inline ones, and the cloud-init drive. Disks attached from
// Vdi resources survive; keepDisksOnDelete keeps every disk.
import { isXapiError } from "../../xapi/errors";
import type { Prior, ResourceContext } from "../contract";
import { xapiFor } from "../common/connection";
import { assertSamePool } from "../common/same-pool";
import type { Outputs } from "./inputs";
import { readLive } from "./live";
import { progressReporter } from "../common/progress";
import { shutdown } from "./power";

export async function delete_(id: string, olds: Prior<Outputs>, ctx: ResourceContext): Promise<void> {
  const o = olds as Outputs; // as in update.ts
  const xapi = await xapiFor(ctx.config, o.connection);
  const live = await readLive(xapi, id, "skip"); // no addresses or console needed to delete
  if (!live) return assertSamePool(xapi, "VM", id, o);
  const owned = new Set(
    o.keepDisksOnDelete
      ? []
      : [
          ...(o.disks ?? []).filter((d) => d.owned && d.vdiUuid).map((d) => d.vdiUuid),
          ...(o.cloudInitVdi ? [o.cloudInitVdi] : []),
        ],
  );
  // Only disks attached to this VM right now: a UUID in the state never destroys someone else's disk.
  const doomed = Object.values(live.vbds)
    .map((b) => b.VDI)
    .filter((ref) => live.vdis[ref] && owned.has(live.vdis[ref].uuid));
  await shutdown(xapi, live.ref, live.vm.power_state, o.shutdownTimeout ?? 120);
  await xapi.callAsync("VM.destroy", [live.ref], { onProgress: progressReporter("destroying") });
  for (const vdi of new Set(doomed)) {
    try {
      await xapi.callAsync("VDI.destroy", [vdi]);
    } catch (err) {
      if (!isXapiError(err, "HANDLE_INVALID")) throw err;
    }
  }
}
