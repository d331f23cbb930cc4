// The runtime side of the dynamic provider: what the serialized shim in dynamic.ts
// loads inside the dynamic-provider process. It keeps the stack configuration
// (connection settings, read in configure()) and routes each call to the module
// of the resource kind. Nothing here imports @pulumi/pulumi.
import { isDeepStrictEqual } from "node:util";
import { forEngine } from "./check-failures";
import { replaceOnChangesKey, replacedBy } from "./replace-on-changes";
import { closeAll, verifyConnection } from "./resources/common/connection";
import { resourceUrnKey, urnIn, withResourceStatus } from "./resources/common/progress";
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
      // check and diff run with the resource's status too: their notices (a restart ahead, an MTU) go under it.
      const checked = await withResourceStatus(urnIn(news), () => mod.check(strip(olds), strip(news), ctx), kind);
      const r = checked.failures?.length ? { ...checked, failures: forEngine(checked.failures, news ?? {}) } : checked;
      // The replaceOnChanges option and the resource's URN ride along with the checked inputs (diff, create, update).
      const patterns = news?.[replaceOnChangesKey];
      const urn = urnIn(news);
      return r.inputs && (Array.isArray(patterns) || urn)
        ? {
            ...r,
            inputs: {
              ...r.inputs,
              ...(Array.isArray(patterns) ? { [replaceOnChangesKey]: patterns } : {}),
              ...(urn ? { [resourceUrnKey]: urn } : {}),
            },
          }
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
      return withResourceStatus(
        urnIn(news),
        () => mod.diff(id, strip(olds), strip(news), forceReplace.length ? { ...ctx, forceReplace } : ctx),
        `${kind} ${id}`,
      );
    }
    // Each changing call runs with its resource's status (progress shows on that resource's row), and the URN is
    // kept in the outputs, which are all that delete and read are given.
    case "create": {
      const news = args[0] as Record<string, unknown>;
      const urn = urnIn(news);
      const r = await withResourceStatus(urn, () => mod.create(strip(news), ctx), kind);
      return jsonSafe({ ...r, outs: withUrn(r.outs, urn) });
    }
    case "read": {
      const [id, props] = args as [string, Record<string, unknown>];
      const referenceOnly = !!props?.[referenceOnlyKey];
      const urn = urnIn(props);
      const r = await withResourceStatus(
        urn,
        () => mod.read(id, strip(props), { ...ctx, referenceOnly }),
        `${kind} ${id}`,
      );
      // A `Xxx.get(name, uuid)` reference must fail loudly, not resolve to nothing.
      if (!r.id && referenceOnly) throw new Error(`${kind}.get: no ${kind} with uuid ${id} in this pool`);
      const out = jsonSafe(r.id ? { ...r, props: withUrn(r.props, urn), inputs: withUrn(r.inputs, urn) } : r);
      if (out.inputs && !referenceOnly && storedAlready(out.inputs, props)) delete out.inputs;
      return out;
    }
    case "update": {
      const [id, olds, news] = args as [string, Record<string, unknown>, Record<string, unknown>];
      const urn = urnIn(news) ?? urnIn(olds);
      const r = await withResourceStatus(urn, () => mod.update(id, strip(olds), strip(news), ctx), `${kind} ${id}`);
      return jsonSafe({ ...r, outs: withUrn(r.outs, urn) });
    }
    case "delete": {
      const props = args[1] as Record<string, unknown>;
      const id = args[0] as string;
      return withResourceStatus(urnIn(props), () => mod.delete(id, strip(props), ctx), `${kind} ${id}`);
    }
  }
}

/**
 * Whether the inputs a read reports are what the stored outputs already hold (the outputs echo every checked input).
 * Then read leaves them out, and the engine keeps the stored inputs (pkg/resource/deploy/step.go RefreshStep.Apply:
 * "If the provider specified new inputs for this resource, pick them up now. Otherwise, retain the current inputs"):
 * at a refresh with no drift, neither the host nor the engine converts a second bag per resource. A drifted field,
 * or a `get()` (which has no stored inputs), reports them as before. Both bags are plain JSON here; null and absent
 * are the same (jsonSafe writes undefined as null). The host gives read() the stored outputs, not the stored inputs:
 * a stored input the read does not report (`adopt`, or a key an older version wrote), or one that differs from the
 * output of the same name, used to be replaced by a refresh and is now kept as it is until the next update. Diff
 * works on the outputs, so no plan changes; the inputs only show in the state and in refresh's own diff.
 */
function storedAlready(inputs: Record<string, unknown>, olds: Record<string, unknown> | undefined): boolean {
  return !!olds && Object.keys(inputs).every((k) => isDeepStrictEqual(inputs[k] ?? null, olds[k] ?? null));
}

function withUrn<T extends Record<string, unknown> | undefined>(bag: T, urn: string | undefined): T {
  return bag && urn ? { ...bag, [resourceUrnKey]: urn } : bag;
}

function strip(props: Record<string, unknown> | undefined): Record<string, unknown> {
  const {
    [providerKey]: _provider,
    [referenceOnlyKey]: _ref,
    [replaceOnChangesKey]: _roc,
    [resourceUrnKey]: _urn,
    ...rest
  } = props ?? {};
  return rest;
}

/**
 * Pulumi's gRPC struct encoding throws "Unexpected struct type" on undefined,
 * BigInt, Buffer and similar values: results are normalized to plain JSON.
 */
function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v) => (v === undefined ? null : typeof v === "bigint" ? Number(v) : v)));
}
