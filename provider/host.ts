// The runtime side of the dynamic provider: what the serialized shim in dynamic.ts
// loads inside the dynamic-provider process. It keeps the stack configuration
// (connection settings, read in configure()) and routes each call to the module
// of the resource kind. Nothing here imports @pulumi/pulumi.
import { resourceKinds, type ResourceContext, type ResourceModule } from "./resources/registry";

/** The subset of Pulumi's dynamic-provider Config that configure() receives. */
export interface ProviderConfig {
  get(key: string): string | undefined;
}

let config: ProviderConfig = { get: () => undefined };

export function configure(c: ProviderConfig): void {
  config = c;
}

/** The property Pulumi adds to every dynamic resource's inputs and outputs. */
const providerKey = "__provider";

type Method = "check" | "diff" | "create" | "read" | "update" | "delete";

export async function dispatch(kind: string, method: Method, ...args: unknown[]): Promise<unknown> {
  const mod: ResourceModule | undefined = resourceKinds[kind];
  if (!mod) throw new Error(`pulumi-xenserver: unknown resource kind "${kind}" (this provider version knows ${Object.keys(resourceKinds).join(", ")})`);
  const ctx: ResourceContext = { config };
  switch (method) {
    case "check": {
      const [olds, news] = args as [Record<string, unknown>, Record<string, unknown>];
      return mod.check(strip(olds), strip(news), ctx);
    }
    case "diff": {
      const [id, olds, news] = args as [string, Record<string, unknown>, Record<string, unknown>];
      return mod.diff(id, strip(olds), strip(news), ctx);
    }
    case "create":
      return jsonSafe(await mod.create(strip(args[0] as Record<string, unknown>), ctx));
    case "read":
      return jsonSafe(await mod.read(args[0] as string, strip(args[1] as Record<string, unknown>), ctx));
    case "update": {
      const [id, olds, news] = args as [string, Record<string, unknown>, Record<string, unknown>];
      return jsonSafe(await mod.update(id, strip(olds), strip(news), ctx));
    }
    case "delete":
      return mod.delete(args[0] as string, strip(args[1] as Record<string, unknown>), ctx);
  }
}

function strip(props: Record<string, unknown> | undefined): Record<string, unknown> {
  const { [providerKey]: _provider, ...rest } = props ?? {};
  return rest;
}

/**
 * Pulumi's gRPC struct encoding throws "Unexpected struct type" on undefined,
 * BigInt, Buffer and similar values: results are normalized to plain JSON.
 */
export function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v) => (v === undefined ? null : typeof v === "bigint" ? Number(v) : v)));
}
