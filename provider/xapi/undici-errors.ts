/**
 * undici's error classes, loaded on first use. The RPC path (http1-pool.ts) reports failures as the undici
 * errors it replaced, and HttpEndpoint.mapError tests for them; but `require("undici")` loads all of undici
 * (fetch, websocket…: ~80 ms of CPU), which a process making only RPC calls never needs. Its errors module
 * alone costs ~3 ms and holds the very classes undici's index exports as `errors`.
 */
import type { errors as UndiciErrors } from "undici";

type Errors = typeof UndiciErrors;
type ErrorName = {
  [K in keyof Errors]: Errors[K] extends new (message?: string) => Error ? K : never;
}[keyof Errors];

let loaded: Errors | undefined;

function errors(): Errors {
  if (!loaded) {
    try {
      loaded = require("undici/lib/core/errors") as Errors;
    } catch {
      // A future undici that hides its internal paths: the whole package, as before.
      loaded = (require("undici") as typeof import("undici")).errors;
    }
  }
  return loaded;
}

/** A new undici error of that class (`code` as undici sets it: UND_ERR_SOCKET…). */
export function undiciError(name: ErrorName, message?: string): Error & { code: string } {
  const E = errors()[name] as new (message?: string) => Error & { code: string };
  return new E(message);
}

/** As `e instanceof undici.errors.UndiciError`. */
export function isUndiciError(e: unknown): boolean {
  return e instanceof errors().UndiciError;
}
