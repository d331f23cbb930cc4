/**
 * `pulumi-xenserver/provider`: the provider's parts for code beyond the sdk classes (a drift watcher, a script
 * against a pool): the XAPI client, and the resource contract's types (provider/resources/contract.ts).
 */
export * from "./xapi";
export type {
  CheckResult,
  DiffResult,
  EngineResource,
  Prior,
  ReadResult,
  ResourceContext,
  ResourceModule,
} from "./resources/contract";
