/**
 * XAPI datetimes: `YYYYMMDDTHH:MM:SSZ` on the wire (docs/xapi-semantics.md §1.6). Records keep them as these strings —
 * identical over both transports, JSON-serialisable, cheap — and parseXapiDate() turns one into a Date.
 * The epoch `19700101T00:00:00Z` means "never".
 */
export type XapiDateTime = string;

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** Formats a Date the way xapi emits datetimes (UTC, basic date, extended time). */
export function formatXapiDate(d: Date): string {
  return (
    `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`
  );
}

const BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses both the basic form xapi emits and RFC 3339. A value without a zone is UTC (as xapi reads it).
 * Returns undefined when the text is not a datetime.
 */
export function parseXapiDate(s: string): Date | undefined {
  const m = BASIC.exec(s);
  const iso = m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ""}${m[8] ?? "Z"}` : s;
  if (!m && !/^\d{4}-\d{2}-\d{2}T/.test(s)) return undefined;
  const withZone = m || /(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`;
  const d = new Date(withZone);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
