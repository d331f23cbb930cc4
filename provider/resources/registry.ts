// Every resource kind the dynamic provider serves, by the name its sdk class passes (contract.ts: how to add one).
import { atBoundary } from "./boundary";
import type { EngineResource, Props, ResourceModule } from "./contract";
import * as network from "./network";
import * as pool from "./pool";
import * as sr from "./sr";
import * as vdi from "./vdi";
import * as vm from "./vm";

/** The typed modules; xen-drift takes each kind's comparison from them (through resourceKinds). */
const resourceModules: readonly ResourceModule<Props, Props>[] = [
  pool.resource,
  network.resource,
  sr.resource,
  vdi.resource,
  vm.resource,
];

/**
 * The same modules as the runtime's dispatch() calls them, behind the boundary (boundary.ts): property bags in and
 * out. Tests and benches call a kind through these too (`const { Sr: sr } = resourceKinds`).
 */
export const resourceKinds: Record<string, EngineResource> = Object.fromEntries(
  resourceModules.map((m) => [m.kind, atBoundary(m)]),
);
