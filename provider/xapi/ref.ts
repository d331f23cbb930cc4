/**
 * A reference to an XAPI object of class `C` (`OpaqueRef:<uuid>`). Branded so that a `Ref<"VDI">` is not
 * accepted where a `Ref<"VM">` is expected, while a plain string still is (refs read from anywhere work).
 * The `length` member keeps the brand from being a "weak type", which would reject plain strings.
 */
export type Ref<C extends string> = string & { readonly __xapiClass?: C; readonly length: number };

/** The null reference: every unset ref field holds it. */
export const NULL_REF = "OpaqueRef:NULL" as Ref<never>;

/** True for `OpaqueRef:NULL` and for the legacy empty-string default of some fields (docs/xapi-semantics.md §1.7). */
export function isNullRef(ref: string | undefined | null): boolean {
  return ref === undefined || ref === null || ref === "" || ref === NULL_REF;
}
