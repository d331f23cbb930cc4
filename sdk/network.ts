import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { dynamicProvider } from "../provider/dynamic";
import { inputSchema, outputSchema } from "../provider/resources/network";
import {
  internalProps,
  propertySlots,
  referenceOnly,
  type ArgsOf,
  type PropertiesOf,
  withoutPromiseStacks,
} from "./resource";

export type NetworkArgs = ArgsOf<z.input<typeof inputSchema>>;

/**
 * A XenServer network: private (no NIC), VLAN (`vlan` + `nic`, on every host) or bond (`bond.nics`, on every host).
 * Name, description, MTU, otherConfig and tags update in place; VLAN tag, NIC or bond changes replace it.
 */
// The class's Output properties come from the zod schemas (the single source of truth) through this merged interface.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface Network extends PropertiesOf<typeof inputSchema, typeof outputSchema> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Network extends pulumi.dynamic.Resource {
  constructor(name: string, args: NetworkArgs, opts?: pulumi.CustomResourceOptions) {
    const stacks = withoutPromiseStacks(); // Pulumi's per-property debug stacks (resource.ts)
    try {
      super(
        dynamicProvider("Network"),
        name,
        { ...propertySlots(inputSchema, outputSchema), ...args, ...internalProps("Network", name, opts) },
        opts,
        "xenserver",
        "Network",
      );
    } catch (err) {
      stacks.restack(err);
    }
    stacks.restore();
  }

  /** A read-only reference to an existing network by UUID. */
  static get(
    name: string,
    uuid: pulumi.Input<string>,
    options: { connection?: string } = {},
    opts?: pulumi.CustomResourceOptions,
  ): Network {
    return new Network(name, { ...options, ...referenceOnly } as unknown as NetworkArgs, { ...opts, id: uuid });
  }
}
