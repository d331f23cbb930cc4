// How create() ends: with the new object's id, or — when a step after the object was made fails — with the
// half-made object undone, so nothing is left that the engine never learns of (or the error says what is).
import { identityKeys } from "./identity";

/** create()'s result: the id is the uuid the outputs already read back (no second round trip). */
export function withId<O extends { uuid: string }>(outs: O): { id: string; outs: O } {
  return { id: outs.uuid, outs };
}

/** What undoCreate says of the half-made object: its kind, xe's name for it, its name and identity. */
interface HalfMade {
  kind: string;
  cli: string;
  name: string;
  identity?: string;
  verb?: "destroy" | "forget";
}

/**
 * A create made `kind` but a later step failed (`err`): undo it. When the undo fails too, the object is left
 * behind and the engine never learns of it, so the error says so, with what finds it again (uuid when XAPI still
 * answers, and the identity key every created object carries) and how to remove it. Always throws.
 */
export async function undoCreate(
  err: unknown,
  what: HalfMade,
  undo: () => Promise<unknown>,
  uuid: () => Promise<string>,
): Promise<never> {
  try {
    await undo();
  } catch (undoErr) {
    const id = await uuid().catch(() => undefined);
    throw new Error(`${messageOf(err)}\n${leftBehind(what, id, messageOf(undoErr))}`, { cause: err });
  }
  throw err;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The half-made object is left behind: how to find it (uuid, else identity key, else name) and remove it. */
function leftBehind(what: HalfMade, id: string | undefined, why: string): string {
  const tag = what.identity ? `other-config:${identityKeys.resource}="${what.identity}"` : undefined; // xe's spelling
  const find = id ? `uuid ${id}` : tag ? `the ${what.kind} tagged ${tag}` : `the ${what.kind} named "${what.name}"`;
  const verb = what.verb ?? "destroy";
  const how = id
    ? `xe ${what.cli}-${verb} uuid=${id}`
    : tag
      ? `xe ${what.cli}-list ${tag}, then xe ${what.cli}-${verb}`
      : `xe ${what.cli}-list name-label="${what.name}", then xe ${what.cli}-${verb}`;
  const removal = verb === "forget" ? "forget it (its data stays on the storage)" : "delete it";
  return (
    `Removing the half-made ${what.kind} "${what.name}" failed too (${why}): it is left behind, not in the ` +
    `stack's state. Find it as ${find} and ${removal} by hand (${how}) before running up again.`
  );
}
