import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { dynamicProvider } from "../provider/dynamic";
import { inputSchema, outputSchema } from "../provider/resources/vm/inputs";
import { internalProps, propertySlots, referenceOnly, type PropertiesOf, withoutPromiseStacks } from "./resource";

/** Inputs all the way down: a disk's `vdi` may be another resource's output (`data.uuid`). */
type DeepInput<T> = T extends (infer U)[]
  ? pulumi.Input<DeepInput<U>[]>
  : T extends object
    ? pulumi.Input<{ [K in keyof T]: DeepInput<T[K]> }>
    : pulumi.Input<T>;

export type VmArgs = {
  [K in keyof Omit<z.input<typeof inputSchema>, "identity">]: DeepInput<z.input<typeof inputSchema>[K]>;
};

/**
 * A VM cloned from a template: CPU and memory, disks (the template's by position, new ones, attached Vdi
 * resources), NICs, CD, firmware, a cloud-init drive, power state and guest addresses. Every change is said at
 * preview as hot (live), cold (restart, or refused with updatePolicy "fail") or replace. See docs/resources/vm.md.
 */
// The class's Output properties come from the zod schemas (the single source of truth) through this merged interface.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface Vm extends PropertiesOf<typeof inputSchema, typeof outputSchema> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Vm extends pulumi.dynamic.Resource {
  constructor(name: string, args: VmArgs, opts?: pulumi.CustomResourceOptions) {
    const props: Record<string, unknown> = {
      ...propertySlots(inputSchema, outputSchema),
      ...args,
      ...internalProps("Vm", name, opts),
    };
    // user-data may hold passwords and keys: cloudInit is encrypted in state, as input and as output.
    if (args.cloudInit !== undefined) props.cloudInit = pulumi.secret(args.cloudInit);
    const stacks = withoutPromiseStacks(); // Pulumi's per-property debug stacks (resource.ts)
    try {
      super(
        dynamicProvider("Vm"),
        name,
        props,
        pulumi.mergeOptions(opts, { additionalSecretOutputs: ["cloudInit"] }),
        "xenserver",
        "Vm",
      );
    } catch (err) {
      stacks.restack(err);
    }
    stacks.restore();
  }

  static get(
    name: string,
    uuid: pulumi.Input<string>,
    options: { connection?: string } = {},
    opts?: pulumi.CustomResourceOptions,
  ): Vm {
    return new Vm(name, { ...options, ...referenceOnly } as unknown as VmArgs, { ...opts, id: uuid });
  }
}
