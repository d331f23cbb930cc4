// The objects handed to pulumi.dynamic.Resource. Pulumi serializes them into the
// stack state (`__provider`) and re-evaluates that text in the dynamic-provider
// process, so they capture nothing but two plain strings and load the real code
// inside each method: by package name first (a program that installed this
// package), then by the absolute path seen when the program ran (running from a
// checkout of this repository, where the package is not in node_modules).
import type * as pulumi from "@pulumi/pulumi";

const runtimeByName = "pulumi-xenserver/bin/provider/runtime";
const runtimeByPath = require.resolve("./runtime");

/** Returns the serialization-safe provider for one resource kind, e.g. "Network". */
export function dynamicProvider(kind: string): pulumi.dynamic.ResourceProvider {
  let provider = cache.get(kind);
  if (!provider) {
    provider = makeProvider(kind, runtimeByName, runtimeByPath);
    cache.set(kind, provider);
  }
  return provider;
}

// One object per kind: Pulumi caches a serialized provider per object.
const cache = new Map<string, pulumi.dynamic.ResourceProvider>();

function makeProvider(kind: string, byName: string, byPath: string): pulumi.dynamic.ResourceProvider {
  // Kept inside makeProvider so the serializer captures only `kind`, `byName` and `byPath`.
  function runtime() {
    try {
      return require(byName);
    } catch (err) {
      if ((err as { code?: string }).code !== "MODULE_NOT_FOUND") throw err;
      return require(byPath);
    }
  }
  return {
    async configure(req) {
      runtime().configure(req.config);
    },
    async check(olds, news) {
      return runtime().dispatch(kind, "check", olds, news);
    },
    async diff(id, olds, news) {
      return runtime().dispatch(kind, "diff", id, olds, news);
    },
    async create(inputs) {
      return runtime().dispatch(kind, "create", inputs);
    },
    async read(id, props) {
      return runtime().dispatch(kind, "read", id, props);
    },
    async update(id, olds, news) {
      return runtime().dispatch(kind, "update", id, olds, news);
    },
    async delete(id, props) {
      await runtime().dispatch(kind, "delete", id, props);
    },
  };
}
