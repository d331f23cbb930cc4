import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { dynamicProvider } from "../provider/dynamic";
import { inputSchema, outputSchema } from "../provider/resources/sr";
import {
  internalProps,
  propertySlots,
  referenceOnly,
  type ArgsOf,
  type PropertiesOf,
  withoutPromiseStacks,
} from "./resource";

export type SrArgs = ArgsOf<z.input<typeof inputSchema>>;

/**
 * A storage repository: nfs, smb, iso, lvm/ext (local, on a host), lvmoiscsi, or any SM type with deviceConfig.
 * `mode: "attach"` introduces an existing SR without touching its data. Delete forgets it (data kept)
 * unless destroyOnDelete is true. deviceConfig is always a secret in state.
 */
// The class's Output properties come from the zod schemas (the single source of truth) through this merged interface.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface Sr extends PropertiesOf<typeof inputSchema, typeof outputSchema> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Sr extends pulumi.dynamic.Resource {
  constructor(name: string, args: SrArgs, opts?: pulumi.CustomResourceOptions) {
    const props = { ...propertySlots(inputSchema, outputSchema), ...args, ...internalProps("Sr", name, opts) };
    // Passwords live in deviceConfig: keep it encrypted in state, as input and as output.
    if (args.deviceConfig !== undefined) props.deviceConfig = pulumi.secret(args.deviceConfig);
    const stacks = withoutPromiseStacks(); // Pulumi's per-property debug stacks (resource.ts)
    try {
      super(
        dynamicProvider("Sr"),
        name,
        props,
        pulumi.mergeOptions(opts, { additionalSecretOutputs: ["deviceConfig"] }),
        "xenserver",
        "Sr",
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
  ): Sr {
    return new Sr(name, { ...options, ...referenceOnly } as unknown as SrArgs, { ...opts, id: uuid });
  }
}
