// What every resource class shares: Pulumi inputs derived from the zod schemas
// (the single source of truth), the identity tag and the static get().
import * as pulumi from "@pulumi/pulumi";

/** Pulumi inputs for a schema's input type, without the fields the sdk sets itself. */
export type ArgsOf<T> = { [K in keyof Omit<T, "identity">]: pulumi.Input<T[K]> };

/** "project/stack/name": tags created objects so they can be found again. */
export function identityOf(name: string): string {
  return `${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
}

/** Seeds output properties so Pulumi exposes them (dynamic resources learn outputs from props). */
export function outputSlots(names: string[]): Record<string, undefined> {
  return Object.fromEntries(names.map((n) => [n, undefined]));
}
