/** xapi's datetime format: `YYYYMMDDTHH:MM:SSZ` (docs/xapi-semantics.md §1.6). */
export function toXapiDatetime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}Z`;
}

export function nowDatetime(): string {
  return toXapiDatetime(new Date());
}
