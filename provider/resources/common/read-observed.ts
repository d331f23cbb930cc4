// The read() of a kind whose comparison observes its object (Network, Sr, Vdi): the live values of what the
// program owns, through the same code diff() and xen-drift use, so a refresh shows drift and `up` repairs it.
import type { Prior, ReadResult, ResourceContext } from "../contract";
import { xapiFor, type Xapi } from "./connection";
import { xapiRecords, type LiveComparison, type LiveRecords } from "./live";
import { pickInputs } from "./read-inputs";
import { assertSamePool } from "./same-pool";

/** What the kind's read() adds to the common part. */
interface ObservedRead<I, O, R> {
  comparison: LiveComparison<Prior<O>, I>;
  /** The input fields read() carries over from state (XAPI cannot tell them). */
  inputKeys: string[];
  /** For a get() (referenceOnly): inputs only a whole read of the object tells (a network's VLAN or bond). */
  described?: (xapi: Xapi, live: R) => Promise<Partial<I>>;
  /** The outputs, from the record and records read in this same call. */
  outputs: (xapi: Xapi, seen: { ref: string; live: R; records: LiveRecords }, inputs: I) => Promise<O>;
}

/**
 * `id: ""` when the object is gone, but only once the connection is known to reach the resource's pool
 * (assertSamePool: "not found" in another pool is refused, not taken for a deletion).
 */
export async function readObserved<I, O extends { connection?: string; poolUuid?: string }, R>(
  id: string,
  o: Prior<O>,
  ctx: ResourceContext,
  kind: ObservedRead<I, O, R>,
): Promise<ReadResult<I, O>> {
  const xapi = await xapiFor(ctx.config, o.connection);
  const records = xapiRecords(xapi);
  const all = !!ctx.referenceOnly;
  const seen = await kind.comparison.observe(id, o, records, all);
  if (!seen) {
    await assertSamePool(xapi, kind.comparison.cls, id, o);
    return { id: "" };
  }
  const live = (await records.get<R>(kind.comparison.cls, seen.ref))!;
  const inputs: I = { ...pickInputs<I>(o, kind.inputKeys), ...seen.inputs };
  if (all && kind.described) Object.assign(inputs as object, await kind.described(xapi, live));
  return { id, props: await kind.outputs(xapi, { ref: seen.ref, live, records }, inputs), inputs };
}
