// Kept for stacks whose state holds the provider as serialized before runtime.ts had its name: that text
// requires "pulumi-xenserver/bin/provider/host" (provider/dynamic.ts), and a delete or refresh runs it as stored.
export { configure, dispatch } from "./runtime";
