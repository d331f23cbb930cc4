// Adoption: a resource that takes over an existing object (adopt: "<uuid>") instead of making one. The adopted
// object stays the same object whatever profile reaches it, so what would replace a made object updates it.
import { profileOf } from "./connection";
import { containsUnknown } from "./unknowns";

type Adoption = { adopt?: string | null };
type Placement = { adopt?: string | null; connection?: string | null };

/**
 * For an adopted object, fields that only matter when creating are not compared. With `id`, adopting the very
 * object the resource already is (its own uuid) counts too: it stays the same object.
 */
function sameAdoption(o: Adoption, n: Adoption, id?: string): boolean {
  return !!n.adopt && (o.adopt === n.adopt || n.adopt === id);
}

/**
 * Whether `adopt` changes to the object the resource already is: an update, not a replacement (which would adopt
 * it, then delete it).
 */
function adoptsItself(id: string, o: Adoption, n: Adoption): boolean {
  return !!n.adopt && n.adopt === id && o.adopt !== n.adopt;
}

/**
 * The part of every diff about which pool and which object: a changed connection or adopt plans a replacement,
 * except where the object stays the same one (an adopted object reached through another profile, or adopt set to
 * the object itself), which is an update. `keepsAdoption`: the creation-only fields are then not compared.
 */
export function connectionAndAdoption(
  id: string,
  o: Placement,
  n: Placement,
): { replaces: string[]; updates: boolean; keepsAdoption: boolean } {
  const same = (a: unknown, b: unknown) => !containsUnknown(b) && (a ?? null) === (b ?? null);
  const connectionChanged = !same(profileOf(o.connection), profileOf(n.connection));
  // A new profile for an object the stack adopted: the same object, so an update.
  const adoptedMoved = connectionChanged && sameAdoption(o, n);
  const selfAdopted = adoptsItself(id, o, n);
  const replaces: string[] = [];
  if (connectionChanged && !adoptedMoved) replaces.push("connection");
  if (!same(o.adopt, n.adopt) && !selfAdopted) replaces.push("adopt");
  return { replaces, updates: adoptedMoved || selfAdopted, keepsAdoption: sameAdoption(o, n, id) };
}
