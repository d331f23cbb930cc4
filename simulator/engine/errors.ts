/** An XAPI failure: the wire code and its string parameters, exactly as xapi sends them. */
export class XapiError extends Error {
  constructor(
    readonly code: string,
    readonly params: string[] = [],
  ) {
    super(`${code}(${params.join(", ")})`);
  }
  get description(): string[] {
    return [this.code, ...this.params];
  }
}

export const fail = (code: string, ...params: (string | number | boolean)[]): never => {
  throw new XapiError(code, params.map(String));
};

/** Any non-XAPI exception escaping an operation becomes INTERNAL_ERROR, as ExnHelper.error_of_exn does. */
export function toXapiError(e: unknown): XapiError {
  if (e instanceof XapiError) return e;
  return new XapiError("INTERNAL_ERROR", [e instanceof Error ? e.message : String(e)]);
}
