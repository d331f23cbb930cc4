// pulumi-xenserver: XenServer / XCP-ng resources for Pulumi programs.
export * as internal from "./internal";
