// The identity keys: other_config entries that record which stack and resource made (or adopted) an object, so a
// half-made object can be found again and xen-drift can tell managed objects from unmanaged ones.
import type { StringMap } from "./owned-map";

/** other_config keys that record which stack and resource made (or adopted) an object. */
export const identityKeys = { stack: "pulumi-xenserver:stack", resource: "pulumi-xenserver:resource" } as const;

/** The identity keys for `identity` ("<stack>/<resource>"); none without one. */
export function identityEntries(identity: string | undefined): StringMap {
  if (!identity) return {};
  const i = identity.lastIndexOf("/");
  return { [identityKeys.stack]: identity.slice(0, i), [identityKeys.resource]: identity.slice(i + 1) };
}
