/** A reference to an XAPI object of class `C` (`OpaqueRef:<uuid>`), branded so a VM ref is not a VDI ref. */
export type Ref<C extends string> = string & { readonly __xapiClass?: C };

/** The null reference: every unset ref field holds it. */
export const NULL_REF = "OpaqueRef:NULL" as Ref<never>;

/** True for `OpaqueRef:NULL` and for the legacy empty-string default of some fields (SEMANTICS §1.7). */
export function isNullRef(ref: string | undefined | null): boolean {
  return ref === undefined || ref === null || ref === "" || ref === NULL_REF;
}
