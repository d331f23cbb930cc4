// The objects handed to pulumi.dynamic.Resource. Pulumi serializes them into the stack state (`__provider`, in
// every resource's inputs and outputs) and re-evaluates that text in the dynamic-provider process.
//
// Installed from npm (the package is under node_modules), the object is the whole exports of
// provider/kinds/<kind>.js, and the serializer stores a reference to that module:
// `require("pulumi-xenserver/bin/provider/kinds/vdi")`, under 300 characters (that module exports the same object as
// closureProvider; its text is never stored). The engine rewrites the whole checkpoint after each step, so this
// text's size is paid N times per step: with the 3.1 KB closure below, it was ~6.3 KB of a Vdi's 8.7 KB of state.
//
// Run from a checkout of this repository (tests, the demo), the package is not under node_modules and the serializer
// would copy the module's code by value; there the object itself is stored: it captures nothing but two plain
// strings and loads the runtime inside each method, by package name first, then by the absolute path seen when the
// program ran.
//
// State written by older versions holds the closure's text, which calls runtime.js's configure() and
// dispatch(kind, method, ...args): keep both (test/e2e/provider-text.test.ts).
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";

const runtimeByName = "pulumi-xenserver/bin/provider/runtime";
const runtimeByPath = require.resolve("./runtime");
const installed = runtimeByPath.split(path.sep).includes("node_modules");

/** Returns the serialization-safe provider for one resource kind, e.g. "Network". */
export function dynamicProvider(kind: string): pulumi.dynamic.ResourceProvider {
  let provider = cache.get(kind);
  if (!provider) {
    provider = installed
      ? (require(`./kinds/${kind.toLowerCase()}`) as pulumi.dynamic.ResourceProvider)
      : closureProvider(kind);
    cache.set(kind, provider);
  }
  return provider;
}

// One object per kind: Pulumi caches a serialized provider per object.
const cache = new Map<string, pulumi.dynamic.ResourceProvider>();

/** The provider object for `kind` that loads the runtime in each method: what provider/kinds/<kind>.js exports too. */
export function closureProvider(kind: string): pulumi.dynamic.ResourceProvider {
  return makeProvider(kind, runtimeByName, runtimeByPath);
}

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
