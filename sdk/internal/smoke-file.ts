import * as pulumi from "@pulumi/pulumi";
import { dynamicProvider } from "../../provider/dynamic";

export interface SmokeFileArgs {
  dir: pulumi.Input<string>;
  name: pulumi.Input<string>;
  content: pulumi.Input<string>;
}

/** Internal: a file on the local disk, used by the packaging smoke test only. */
export class SmokeFile extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  declare readonly content: pulumi.Output<string>;
  declare readonly bytes: pulumi.Output<number>;
  declare readonly tag: pulumi.Output<string | null>;

  constructor(name: string, args: SmokeFileArgs, opts?: pulumi.CustomResourceOptions) {
    super(dynamicProvider("internal:SmokeFile"), name, { path: undefined, bytes: undefined, tag: undefined, ...args }, opts, "xenserver", "SmokeFile");
  }
}
