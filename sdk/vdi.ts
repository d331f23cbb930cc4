import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { dynamicProvider } from "../provider/dynamic";
import { inputSchema, outputSchema } from "../provider/resources/vdi";
import { identityOf, propertySlots, referenceOnly, type ArgsOf } from "./resource";

export type VdiArgs = ArgsOf<z.input<typeof inputSchema>>;

/**
 * A virtual disk on an SR, empty or filled from a local raw/VHD image.
 * Growing `size` resizes in place; shrinking is refused; a new SR or a changed image replaces it.
 */
export class Vdi extends pulumi.dynamic.Resource {
  declare readonly uuid: pulumi.Output<string>;
  declare readonly sr: pulumi.Output<string>;
  declare readonly size: pulumi.Output<number>;
  declare readonly virtualSize: pulumi.Output<number>;
  declare readonly physicalUtilisation: pulumi.Output<number>;
  declare readonly sourceHash: pulumi.Output<string | undefined>;
  declare readonly name: pulumi.Output<string>;
  declare readonly otherConfig: pulumi.Output<Record<string, string>>;
  declare readonly tags: pulumi.Output<string[]>;

  constructor(name: string, args: VdiArgs, opts?: pulumi.CustomResourceOptions) {
    super(dynamicProvider("Vdi"), name, { ...propertySlots(inputSchema, outputSchema), ...args, identity: identityOf(name) }, opts, "xenserver", "Vdi");
  }

  static get(name: string, uuid: pulumi.Input<string>, options: { connection?: string } = {}, opts?: pulumi.CustomResourceOptions): Vdi {
    return new Vdi(name, { ...options, ...referenceOnly } as unknown as VdiArgs, { ...opts, id: uuid });
  }
}
