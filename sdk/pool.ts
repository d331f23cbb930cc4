import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { dynamicProvider } from "../provider/dynamic";
import { inputSchema, outputSchema } from "../provider/resources/pool";
import {
  internalProps,
  propertySlots,
  referenceOnly,
  type ArgsOf,
  type PropertiesOf,
  withoutPromiseStacks,
} from "./resource";

export type PoolArgs = ArgsOf<z.input<typeof inputSchema>>;

/**
 * The pool the connection points at (adopted: pools cannot be created through the API).
 * Deleting the resource puts back what the pool had before (SRs, owned keys and tags); it never ejects hosts.
 */
// The class's Output properties come from the zod schemas (the single source of truth) through this merged interface.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface Pool extends PropertiesOf<typeof inputSchema, typeof outputSchema> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Pool extends pulumi.dynamic.Resource {
  constructor(name: string, args: PoolArgs = {}, opts?: pulumi.CustomResourceOptions) {
    const stacks = withoutPromiseStacks(); // Pulumi's per-property debug stacks (resource.ts)
    try {
      super(
        dynamicProvider("Pool"),
        name,
        { ...propertySlots(inputSchema, outputSchema), ...args, ...internalProps("Pool", name, opts) },
        opts,
        "xenserver",
        "Pool",
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
  ): Pool {
    return new Pool(name, { ...options, ...referenceOnly } as PoolArgs, { ...opts, id: uuid });
  }
}
