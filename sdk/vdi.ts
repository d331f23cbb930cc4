import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { dynamicProvider } from "../provider/dynamic";
import { inputSchema, outputSchema } from "../provider/resources/vdi";
import {
  internalProps,
  propertySlots,
  referenceOnly,
  type ArgsOf,
  type PropertiesOf,
  withoutPromiseStacks,
} from "./resource";

export type VdiArgs = ArgsOf<z.input<typeof inputSchema>>;

/**
 * A virtual disk on an SR, empty or filled from a local raw/VHD image.
 * Growing `size` resizes in place; shrinking is refused; a new SR or a changed image replaces it.
 */
// The class's Output properties come from the zod schemas (the single source of truth) through this merged interface.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface Vdi extends PropertiesOf<typeof inputSchema, typeof outputSchema> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Vdi extends pulumi.dynamic.Resource {
  constructor(name: string, args: VdiArgs, opts?: pulumi.CustomResourceOptions) {
    const stacks = withoutPromiseStacks(); // Pulumi's per-property debug stacks (resource.ts)
    try {
      super(
        dynamicProvider("Vdi"),
        name,
        { ...propertySlots(inputSchema, outputSchema), ...args, ...internalProps("Vdi", name, opts) },
        opts,
        "xenserver",
        "Vdi",
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
  ): Vdi {
    return new Vdi(name, { ...options, ...referenceOnly } as unknown as VdiArgs, { ...opts, id: uuid });
  }
}
