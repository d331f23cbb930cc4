// Every resource kind the dynamic provider serves, by the name its sdk class passes.
import type { ProviderConfig } from "../host";
import type { LiveComparison } from "./common/live";
import * as network from "./network";
import * as pool from "./pool";
import * as sr from "./sr";
import * as vdi from "./vdi";
import * as vm from "./vm";

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

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface CheckResult {
  inputs?: Record<string, unknown>;
  failures?: CheckFailure[];
}

export interface DiffResult {
  changes: boolean;
  replaces?: string[];
  deleteBeforeReplace?: boolean;
}

export interface ReadResult {
  id: string;
  props?: Record<string, unknown>;
  inputs?: Record<string, unknown>;
}

type Props = Record<string, unknown>;

/** One resource kind's whole lifecycle; see provider/resources/*.ts. */
export interface ResourceModule {
  /** The zod input schema: its keys are the resource's inputs. */
  inputSchema: { shape: Record<string, unknown> };
  check(olds: Props, news: Props, ctx: ResourceContext): Promise<CheckResult>;
  diff(id: string, olds: Props, news: Props, ctx: ResourceContext): Promise<DiffResult>;
  create(inputs: Props, ctx: ResourceContext): Promise<{ id: string; outs: Props }>;
  read(id: string, props: Props, ctx: ResourceContext): Promise<ReadResult>;
  update(id: string, olds: Props, news: Props, ctx: ResourceContext): Promise<{ outs: Props }>;
  delete(id: string, props: Props, ctx: ResourceContext): Promise<void>;
  /**
   * How the kind's managed attributes are read from live records and compared (common/live.ts): the code its
   * read() and diff() use, run by xen-drift over its event-fed snapshot. Kinds without it are not drift-checked.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  comparison?: LiveComparison<any>;
}

export const resourceKinds: Record<string, ResourceModule> = {
  Pool: pool,
  Network: network,
  Sr: sr,
  Vdi: vdi,
  Vm: vm,
};
