// The messages several resources give in the same situation: the object gone from under update(), a connection
// that reaches another pool, the VMs that hold an object (named, not as OpaqueRefs).
import { configKey, defaultProfile, type Xapi } from "./connection";

/** update() found no object: for an adopted object reached through a new profile, say why. */
export function goneMessage(
  kind: string,
  id: string,
  o: { connection?: string | null },
  n: { adopt?: string | null; connection?: string | null },
): string {
  if (n.adopt && (o.connection ?? "default") !== (n.connection ?? "default")) {
    return (
      `adopt: no ${kind} with uuid ${id} through connection "${n.connection ?? "default"}"; an adopted ${kind} ` +
      `cannot move to another pool: change adopt as well (or keep connection "${o.connection ?? "default"}")`
    );
  }
  return `${kind} ${id} no longer exists; run \`pulumi refresh\` and \`pulumi up\` to re-create it`;
}

/** The end of the refusal when a connection reaches another pool than the resource's: what happened, what to do. */
export function otherPoolMessage(
  kind: string,
  here: { uuid: string; name: string },
  connection: string | null | undefined,
): string {
  const profile = connection ?? defaultProfile;
  return (
    `connection "${profile}" now reaches pool "${here.name}" (${here.uuid}); the ${kind} is not dropped from the ` +
    `state on that account. Point the connection back at its pool (${configKey(profile, "url")}) and run pulumi up ` +
    "or pulumi refresh --run-program; if that pool is really gone, remove the resource from the state " +
    "(pulumi state delete <urn>)."
  );
}

/** `"web" (uuid …)` for each VM, for messages that would otherwise list OpaqueRefs. */
export async function describeVms(xapi: Xapi, vms: string[]): Promise<string[]> {
  return Promise.all(
    [...new Set(vms)].map(async (vm) => {
      const r = await xapi.call<{ name_label: string; uuid: string }>("VM.get_record", vm);
      return `"${r.name_label}" (${r.uuid})`;
    }),
  );
}
