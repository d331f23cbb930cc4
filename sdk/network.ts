import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { dynamicProvider } from "../provider/dynamic";
import { inputSchema, outputSchema } from "../provider/resources/network";
import { identityOf, propertySlots, referenceOnly, type ArgsOf } from "./resource";

export type NetworkArgs = ArgsOf<z.input<typeof inputSchema>>;

/**
 * A XenServer network: private (no NIC), VLAN (`vlan` + `nic`, on every host) or bond (`bond.nics`, on every host).
 * Name, description, MTU, otherConfig and tags update in place; VLAN tag, NIC or bond changes replace it.
 */
export class Network extends pulumi.dynamic.Resource {
  declare readonly uuid: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly description: pulumi.Output<string>;
  declare readonly mtu: pulumi.Output<number>;
  declare readonly vlan: pulumi.Output<number | undefined>;
  declare readonly nic: pulumi.Output<string | undefined>;
  declare readonly bridge: pulumi.Output<string>;
  declare readonly pifs: pulumi.Output<string[]>;
  declare readonly otherConfig: pulumi.Output<Record<string, string>>;
  declare readonly tags: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.CustomResourceOptions) {
    super(dynamicProvider("Network"), name, { ...propertySlots(inputSchema, outputSchema), ...args, identity: identityOf(name) }, opts, "xenserver", "Network");
  }

  /** A read-only reference to an existing network by UUID. */
  static get(name: string, uuid: pulumi.Input<string>, options: { connection?: string } = {}, opts?: pulumi.CustomResourceOptions): Network {
    return new Network(name, { ...options, ...referenceOnly } as unknown as NetworkArgs, { ...opts, id: uuid });
  }
}
