/**
 * The resource contract: what one resource kind (Pool, Network, Sr, Vdi, Vm) implements, typed by
 * its inputs and outputs, and the types the dynamic-provider runtime (provider/runtime.ts) exchanges with it.
 *
 * A module writes `ResourceModule<Inputs, Outputs>` and never sees the engine's untyped property bags: boundary.ts
 * (`atBoundary`) checks what the engine hands back against the module's zod schemas once, then calls the module
 * with typed values. registry.ts lists the modules by kind. This file imports no module, so the modules, the
 * runtime and the common helpers can all depend on it without a cycle.
 */
import type { z } from "zod";
import type { ProviderConfig } from "./common/connection";
import type { LiveComparison } from "./common/live";

export type { ProviderConfig };

/** What a resource module receives besides its inputs. */
export interface ResourceContext {
  config: ProviderConfig;
  /** read() for a static get(): report every live field, not only those the program states. */
  referenceOnly?: boolean;
  /**
   * diff(): inputs the `replaceOnChanges` option names whose values changed (provider/replace-on-changes.ts).
   * The diff replaces for them too, and counts them when it decides to delete before replacing.
   */
  forceReplace?: string[];
}

/** A property bag as the engine passes it (inputs or outputs, not yet checked). */
export type Props = Record<string, unknown>;

/**
 * Values read back from the stack's state (old inputs, old outputs): a field may be missing (state written before
 * the field existed, a get() that knows only the id) or null (the engine keeps undefined as null).
 */
export type Prior<T> = { [K in keyof T]?: T[K] | null };

export interface CheckFailure {
  property: string;
  reason: string;
}

/** check()'s answer: the checked inputs (defaults filled in, sizes in bytes…) or why they are refused. */
export interface CheckResult<I = Props> {
  inputs?: I;
  failures?: CheckFailure[];
}

export interface DiffResult {
  changes: boolean;
  replaces?: string[];
  deleteBeforeReplace?: boolean;
}

export interface CreateResult<O = Props> {
  /** The object's UUID: the resource id. */
  id: string;
  outs: O;
}

export interface UpdateResult<O = Props> {
  outs: O;
}

/** read()'s answer: `id: ""` when the object is gone; otherwise the live outputs and the inputs they imply. */
export interface ReadResult<I = Props, O = Props> {
  id: string;
  props?: O;
  inputs?: I;
}

/**
 * One resource kind's whole lifecycle, typed. `Inputs` is what check() returns (the engine stores it and hands it to
 * diff/create/update); `Outputs` is what create/update/read return (the inputs plus what XAPI reports: uuid,
 * poolUuid…), handed back as `olds` to diff/read/update/delete.
 *
 * What the boundary guarantees (boundary.ts): `news` and `olds` conform to `schemas` — each field present has its
 * type. They are passed as the engine gave them, not rewritten: no defaults are filled in (check() leaves out the
 * defaults an adopted object did not state, and filling them in would overwrite its live values). Two things the
 * types cannot say: during `pulumi preview` any field of `news` may be the unknown sentinel (common/unknowns.ts),
 * so diff() tests `isUnknown`/`containsUnknown` before trusting a value; and for an adopted object the fields with
 * schema defaults that the program leaves out are absent.
 *
 * To add a kind: write provider/resources/<kind>.ts with an input and output schema, the six functions below and
 * a `comparison`, and `export const resource: ResourceModule<Inputs, Outputs> = {…}`; list it in registry.ts (whose
 * `resourceKinds` is every kind behind the boundary, as the runtime and the tests call it); add the sdk class that
 * passes the kind's name.
 */
export interface ResourceModule<I extends Props, O extends Props> {
  /** The name the sdk class passes to the dynamic provider ("Sr"). */
  readonly kind: string;
  /** The program's inputs as check() validates them. Its keys are the input names (replaceOnChanges `*`). */
  readonly inputSchema: z.ZodObject;
  /** Only for the boundary: what checked inputs and outputs look like in the state (boundary.ts `stateSchemas`). */
  readonly schemas: StateSchemas;
  check(olds: Prior<I>, news: Props, ctx: ResourceContext): Promise<CheckResult<I>>;
  /** `ctx` is absent when a caller plans without a connection (tests of the pure part of a diff). */
  diff(id: string, olds: Prior<O>, news: I, ctx?: ResourceContext): Promise<DiffResult>;
  create(news: I, ctx: ResourceContext): Promise<CreateResult<O>>;
  read(id: string, olds: Prior<O>, ctx: ResourceContext): Promise<ReadResult<I, O>>;
  update(id: string, olds: Prior<O>, news: I, ctx: ResourceContext): Promise<UpdateResult<O>>;
  delete(id: string, olds: Prior<O>, ctx: ResourceContext): Promise<void>;
  /**
   * How this kind's managed attributes are read from live XAPI records and compared (common/live.ts): the code
   * read() and diff() use, and the drift detector runs over its event-stream snapshot, so that a refresh, a
   * preview and a drift report never disagree. `observe` gives the inputs a refresh would report; `compare` the
   * in-place changes between stored and live inputs. A kind without one is not drift-checked.
   */
  readonly comparison?: LiveComparison<Prior<O>, I>;
}

/** The zod objects the boundary checks state values against (lenient: every field optional, extra fields kept). */
export interface StateSchemas {
  /** Checked inputs: `news` of diff/create/update, `olds` of check. */
  inputs: z.ZodType;
  /** Outputs: `olds` of diff/read/update/delete. */
  outputs: z.ZodType;
}

/**
 * A resource module as the engine calls it: property bags in and out, ctx optional in diff(). boundary.ts makes
 * one from a ResourceModule; the runtime's dispatch() and the tests call these.
 */
export interface EngineResource {
  inputSchema: { shape: Record<string, unknown> };
  check(olds: Props, news: Props, ctx: ResourceContext): Promise<CheckResult>;
  diff(id: string, olds: Props, news: Props, ctx?: ResourceContext): Promise<DiffResult>;
  create(inputs: Props, ctx: ResourceContext): Promise<CreateResult>;
  read(id: string, props: Props, ctx: ResourceContext): Promise<ReadResult>;
  update(id: string, olds: Props, news: Props, ctx: ResourceContext): Promise<UpdateResult>;
  delete(id: string, props: Props, ctx: ResourceContext): Promise<void>;
  /** The module's comparison (ResourceModule.comparison), for xen-drift. */
  comparison?: LiveComparison<Prior<Props>, Props>;
}
