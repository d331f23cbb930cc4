// Which resources of a deployment xen-drift compares: this package's, by the type token the engine records.
import { managedResources } from "../../../provider/drift/state";

describe("managedResources", () => {
  it("takes this package's resources by the engine's dynamic type token, and leaves out the rest", () => {
    const res = (type: string, name: string, extra: Record<string, unknown> = {}) => ({
      urn: `urn:pulumi:dev::lab::${type}::${name}`,
      type,
      custom: true,
      id: `id-${name}`,
      outputs: { name, __provider: "exports.handler = …" },
      ...extra,
    });
    const found = managedResources({
      version: 3,
      deployment: {
        resources: [
          { urn: "urn:pulumi:dev::lab::pulumi:pulumi:Stack::lab-dev", type: "pulumi:pulumi:Stack", custom: false },
          res("pulumi:providers:pulumi-nodejs", "default"),
          // What `pulumi up` records for `new xen.Network(...)` (@pulumi/pulumi dynamic.Resource, module "xenserver").
          res("pulumi-nodejs:dynamic/xenserver:Network", "backend"),
          res("pulumi-nodejs:dynamic/xenserver:Vdi", "ref", { external: true }),
          res("pulumi-nodejs:dynamic:Resource", "someone-elses"),
          res("pulumi-nodejs:xenserver:Sr", "store"),
        ],
      },
    });
    expect(found.map((r) => [r.kind, r.name, r.id, r.outputs])).toEqual([
      ["Network", "backend", "id-backend", { name: "backend" }],
      ["Sr", "store", "id-store", { name: "store" }],
    ]);
  });
});
