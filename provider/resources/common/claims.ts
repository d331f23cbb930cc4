// Conflicts between resources of one program: what two resources would both make (an SR name, a VLAN tag on a
// NIC, a NIC in a bond). Every check() of a deployment runs in the one dynamic-provider process, so what an
// earlier check claimed is known to the later ones, and the second resource is told which one has it.

const holders = new Map<string, Set<string>>();

/** The resource name in an identity ("project/stack/name"). */
function resourceName(identity: string): string {
  return identity.slice(identity.lastIndexOf("/") + 1);
}

/** Another resource that holds `key`, by name. */
export function heldBy(key: string, identity: string | undefined): string | undefined {
  for (const h of holders.get(key) ?? []) if (h !== identity) return resourceName(h);
  return undefined;
}

/**
 * Records that `identity` holds `key` and returns another holder, if any (an exclusive claim fails when one is
 * returned). Without an identity (a resource the sdk did not make) nothing is recorded.
 */
export function claim(key: string, identity: string | undefined): string | undefined {
  if (!identity) return undefined;
  const other = heldBy(key, identity);
  let set = holders.get(key);
  if (!set) holders.set(key, (set = new Set()));
  set.add(identity);
  return other;
}

/** Tests: forget every claim (as a new deployment would). */
export function forgetClaims(): void {
  holders.clear();
}
