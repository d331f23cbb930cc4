// pulumi-xenserver: XenServer / XCP-ng resources for Pulumi programs.
export { Pool, type PoolArgs } from "./pool";
export { Network, type NetworkArgs } from "./network";
export { Sr, type SrArgs } from "./sr";
export { Vdi, type VdiArgs } from "./vdi";
export { Vm, type VmArgs } from "./vm";
export * from "./lookups";
