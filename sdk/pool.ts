import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { dynamicProvider } from "../provider/dynamic";
import { inputSchema, outputSchema } from "../provider/resources/pool";
import { identityOf, propertySlots, referenceOnly, type ArgsOf } from "./resource";

export type PoolArgs = ArgsOf<z.input<typeof inputSchema>>;

/**
 * The pool the connection points at (adopted: pools cannot be created through the API).
 * Deleting the resource leaves the pool as it is; it never ejects hosts.
 */
export class Pool extends pulumi.dynamic.Resource {
  declare readonly uuid: pulumi.Output<string>;
  declare readonly master: pulumi.Output<string>;
  declare readonly hosts: pulumi.Output<string[]>;
  declare readonly liveName: pulumi.Output<string>;
  declare readonly defaultSr: pulumi.Output<string | undefined>;
  declare readonly otherConfig: pulumi.Output<Record<string, string>>;
  declare readonly tags: pulumi.Output<string[]>;

  constructor(name: string, args: PoolArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super(dynamicProvider("Pool"), name, { ...propertySlots(inputSchema, outputSchema), ...args, identity: identityOf(name) }, opts, "xenserver", "Pool");
  }

  static get(name: string, uuid: pulumi.Input<string>, options: { connection?: string } = {}, opts?: pulumi.CustomResourceOptions): Pool {
    return new Pool(name, { ...options, ...referenceOnly } as PoolArgs, { ...opts, id: uuid });
  }
}
