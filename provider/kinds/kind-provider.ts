// The provider object of one resource kind, as the dynamic-provider process calls it. Each file beside this one
// exports such an object as its whole module (`export =`), so that Pulumi's closure serializer, finding it is a
// module under node_modules, stores `require("pulumi-xenserver/bin/provider/kinds/<kind>")` as the resource's
// `__provider` (about 250 characters) instead of serialized source text. See dynamic.ts.
import type * as pulumi from "@pulumi/pulumi";

// Loaded on the first call: the program process only needs the object, not the runtime behind it.
const runtime = async () => import("../runtime");

export function kindProvider(kind: string): pulumi.dynamic.ResourceProvider {
  return {
    async configure(req) {
      (await runtime()).configure(req.config);
    },
    async check(olds, news) {
      return (await runtime()).dispatch(kind, "check", olds, news) as Promise<pulumi.dynamic.CheckResult>;
    },
    async diff(id, olds, news) {
      return (await runtime()).dispatch(kind, "diff", id, olds, news) as Promise<pulumi.dynamic.DiffResult>;
    },
    async create(inputs) {
      return (await runtime()).dispatch(kind, "create", inputs) as Promise<pulumi.dynamic.CreateResult>;
    },
    async read(id, props) {
      return (await runtime()).dispatch(kind, "read", id, props) as Promise<pulumi.dynamic.ReadResult>;
    },
    async update(id, olds, news) {
      return (await runtime()).dispatch(kind, "update", id, olds, news) as Promise<pulumi.dynamic.UpdateResult>;
    },
    async delete(id, props) {
      await (await runtime()).dispatch(kind, "delete", id, props);
    },
  };
}
