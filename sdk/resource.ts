// What every resource class shares: Pulumi inputs derived from the zod schemas
// (the single source of truth), the identity tag and the static get().
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { resourceUrnKey } from "../provider/resources/common/progress";

/** Pulumi inputs for a schema's input type, without the fields the sdk sets itself. */
export type ArgsOf<T> = { [K in keyof Omit<T, "identity">]: pulumi.Input<T[K]> };

/** The Output properties of a resource object: every input (as checked) and output field of its schemas. */
export type PropertiesOf<I extends z.ZodType, O extends z.ZodType> = {
  readonly [K in Exclude<keyof (z.output<I> & z.output<O>), "identity">]-?: pulumi.Output<
    (z.output<I> & z.output<O>)[K]
  >;
};

/** "project/stack/name": tags created objects so they can be found again. */
export function identityOf(name: string): string {
  return `${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
}

/**
 * The props every resource adds to its inputs: the identity; the `replaceOnChanges` resource option, which the
 * engine cannot apply to a dynamic resource (it needs changed keys that the dynamic provider host never sends), so
 * the provider applies it in diff (provider/runtime.ts); and the resource's own URN, which the engine never gives a
 * dynamic provider, for the progress it shows on this resource's row (provider/resources/common/progress.ts).
 */
export function internalProps(
  kind: string,
  name: string,
  opts: pulumi.CustomResourceOptions | undefined,
): { identity: string; __replaceOnChanges?: string[]; [resourceUrnKey]: Promise<string> } {
  const r = opts?.replaceOnChanges;
  return {
    identity: identityOf(name),
    ...(r && r.length ? { __replaceOnChanges: [...r] } : {}),
    [resourceUrnKey]: ownUrn(kind, name, opts?.parent),
  };
}

/** The type token pulumi.dynamic.Resource registers a kind under (its `module` is "xenserver"). */
export const dynamicType = (kind: string): string => `pulumi-nodejs:dynamic/xenserver:${kind}`;

/**
 * The URN the engine gives this resource: its type under the parent's type chain, and its name. A plain promise,
 * not the Output createUrn returns: that Output carries the parent as a dependency, and a dependency on a
 * component waits for all its children, this resource's siblings, which may wait on it in turn.
 */
function ownUrn(kind: string, name: string, parent: pulumi.Resource | undefined): Promise<string> {
  return new Promise((resolve) => {
    // URNs are always known, in preview too, so this runs once the parent is registered.
    pulumi.createUrn(name, dynamicType(kind), parent).apply((urn) => resolve(urn));
  });
}

/**
 * Seeds every input and output property as undefined: a dynamic resource only
 * exposes the properties present in its props, so unset inputs (mtu, tags…)
 * would otherwise be missing on the object. Undefined values are not sent as inputs.
 */
export function propertySlots(...schemas: Array<{ shape: Record<string, unknown> }>): Record<string, undefined> {
  return Object.fromEntries(schemas.flatMap((s) => Object.keys(s.shape)).map((n) => [n, undefined]));
}

/**
 * Turns V8's stack capture off for the span of a resource class's super() call, and returns what turns it back on.
 *
 * Pulumi's Node SDK gives every property a resource is constructed with an Output of four promises
 * (runtime/rpc.js transferProperties), and debuggable.js formats a stack trace for each of them
 * (`new Error().stack`), which it prints only when PULUMI_DEBUG_PROMISE_LEAKS is set. Our classes carry every input
 * and output (a Vm 42 properties, a Vdi 20), so at 1,000 resources that formatting was ~2.8 s of a preview's
 * program process, a third of it (bench:scale profiles). With PULUMI_DEBUG_PROMISE_LEAKS set nothing changes.
 *
 * What keeps its stack: the stack Pulumi reads for the resource's source position (Resource.callsites() raises the
 * limit itself), and an error thrown by the constructor (its stack is taken again, from the caller, once the limit is
 * back). What loses its frames: errors made inside the constructor and used later — the one the SDK prepares for a
 * RegisterResource the engine refuses ("failed to register new resource <name> …", which still names the resource)
 * or, for a get(), for a refused read — and errors that user `transformations` (run inside super()) make.
 */
export function withoutPromiseStacks(): { restore(): void; restack(err: unknown): never } {
  const limit = Error.stackTraceLimit;
  const quiet = !process.env.PULUMI_DEBUG_PROMISE_LEAKS;
  if (quiet) Error.stackTraceLimit = 0;
  const restore = (): void => {
    if (quiet) Error.stackTraceLimit = limit;
  };
  const restack = (err: unknown): never => {
    restore();
    if (quiet && err instanceof Error) Error.captureStackTrace(err, restack);
    throw err;
  };
  return { restore, restack };
}

/** Marks a static get(): the provider fails when the object does not exist. */
export const referenceOnly = { referenceOnly: true } as const;
