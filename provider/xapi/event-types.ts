/** One event of an `event.from` batch. Hand-typed: the wire differs from the datamodel (docs/xapi-semantics.md §5.1). */
export interface XapiEvent<T = Record<string, unknown>> {
  /** The DB generation of the change, as a string. */
  id: string;
  timestamp: string;
  /** Lower-case class name as sent by xapi ("vm", "vm_guest_metrics"). */
  class: string;
  operation: "add" | "mod" | "del";
  ref: string;
  /** Full record for add/mod; absent for del. */
  snapshot?: T;
}

/** The result of `event.from`. */
export interface EventBatch {
  events: XapiEvent[];
  /** Lower-case class name → number of rows in that table. */
  valid_ref_counts: Record<string, number>;
  token: string;
}
