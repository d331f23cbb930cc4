// The runtime side of the dynamic provider: what the serialized shim in dynamic.ts
// loads inside the dynamic-provider process. It keeps the stack configuration
// (connection settings, read in configure()) and routes each call to the module
// of the resource kind. Nothing here imports @pulumi/pulumi.
import { forEngine } from "./check-failures";
import { replaceOnChangesKey, replacedBy } from "./replace-on-changes";
import { closeAll, verifyConnection } from "./resources/common/connection";
import { isUnknown } from "./resources/common/unknowns";
import type { EngineResource, ProviderConfig, ResourceContext } from "./resources/contract";
import { resourceKinds } from "./resources/registry";

export type { ProviderConfig };

let config: ProviderConfig = { get: () => undefined };

export function configure(c: ProviderConfig): void {
  config = c;
  logOutAtExit();
}

let exitHooked = false;

/**
 * The engine stops provider processes with SIGINT/SIGTERM and kills them a moment
 * later: log the XAPI sessions out first, so repeated runs (GitOps) do not pile up
 * sessions against xapi's per-originator cap.
 */
function logOutAtExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  const bye = () => {
    setTimeout(() => process.exit(0), 800).unref();
    closeAll().finally(() => process.exit(0));
  };
  process.once("SIGINT", bye);
  process.once("SIGTERM", bye);
  process.once("beforeExit", () => void closeAll());
}

/** The property Pulumi adds to every dynamic resource's inputs and outputs. */
const providerKey = "__provider";

/** Set by the sdk's static get(): the resource only references an existing object. */
const referenceOnlyKey = "referenceOnly";

type Method = "check" | "diff" | "create" | "read" | "update" | "delete";

export async function dispatch(kind: string, method: Method, ...args: unknown[]): Promise<unknown> {
  const mod: EngineResource | undefined = resourceKinds[kind];
  if (!mod)
    throw new Error(
      `pulumi-xenserver: unknown resource kind "${kind}" (this provider version knows ${Object.keys(resourceKinds).join(", ")})`,
    );
  const ctx: ResourceContext = { config };
  switch (method) {
    case "check": {
      const [olds, news] = args as [Record<string, unknown>, Record<string, unknown>];
      // Connect once per profile first: a wrong password, pin or URL fails the preview, naming the key to fix.
      const profile = news?.connection;
      if (profile === undefined || (typeof profile === "string" && profile !== "" && !isUnknown(profile))) {
        const failed = await verifyConnection(config, profile as string | undefined);
        if (failed) return { failures: [{ property: "", reason: `connection: ${failed}` }] };
      }
      const checked = await mod.check(strip(olds), strip(news), ctx);
      const r = checked.failures?.length ? { ...checked, failures: forEngine(checked.failures, news ?? {}) } : checked;
      // The replaceOnChanges option rides along with the checked inputs, so that diff() sees it.
      const patterns = news?.[replaceOnChangesKey];
      return r.inputs && Array.isArray(patterns)
        ? { ...r, inputs: { ...r.inputs, [replaceOnChangesKey]: patterns } }
        : r;
    }
    case "diff": {
      const [id, olds, news] = args as [string, Record<string, unknown>, Record<string, unknown>];
      // replaceOnChanges: the resource's diff replaces for the inputs it names that changed, and counts them when it
      // decides whether the old object must go first (a VLAN on the same NIC, an attached SR's UUID…).
      const patterns = news?.[replaceOnChangesKey];
      const forceReplace =
        Array.isArray(patterns) && patterns.length
          ? replacedBy(patterns as string[], strip(olds), strip(news), Object.keys(mod.inputSchema.shape))
          : [];
      return mod.diff(id, strip(olds), strip(news), forceReplace.length ? { ...ctx, forceReplace } : ctx);
    }
    case "create":
      return jsonSafe(await mod.create(strip(args[0] as Record<string, unknown>), ctx));
    case "read": {
      const [id, props] = args as [string, Record<string, unknown>];
      const referenceOnly = !!props?.[referenceOnlyKey];
      const r = await mod.read(id, strip(props), { ...ctx, referenceOnly });
      // A `Xxx.get(name, uuid)` reference must fail loudly, not resolve to nothing.
      if (!r.id && referenceOnly) throw new Error(`${kind}.get: no ${kind} with uuid ${id} in this pool`);
      return jsonSafe(r);
    }
    case "update": {
      const [id, olds, news] = args as [string, Record<string, unknown>, Record<string, unknown>];
      return jsonSafe(await mod.update(id, strip(olds), strip(news), ctx));
    }
    case "delete":
      return mod.delete(args[0] as string, strip(args[1] as Record<string, unknown>), ctx);
  }
}

function strip(props: Record<string, unknown> | undefined): Record<string, unknown> {
  const { [providerKey]: _provider, [referenceOnlyKey]: _ref, [replaceOnChangesKey]: _roc, ...rest } = props ?? {};
  return rest;
}

/**
 * Pulumi's gRPC struct encoding throws "Unexpected struct type" on undefined,
 * BigInt, Buffer and similar values: results are normalized to plain JSON.
 */
function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v) => (v === undefined ? null : typeof v === "bigint" ? Number(v) : v)));
}
