// Sizes accept bytes (a number or digits) or a string with a binary or decimal unit.
const units: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** Parses 1073741824, "1073741824", "20GiB", "512 MiB", "1.5TiB". Returns undefined when it does not parse. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!m) return undefined;
  const unit = m[2].toLowerCase() || "b";
  const factor = units[unit];
  if (factor === undefined) return undefined;
  const bytes = Math.round(parseFloat(m[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `"atLeast:20GiB"`: a disk of at least that size; a disk grown beyond it (outside Pulumi) keeps its size. */
const atLeastPrefix = /^\s*atLeast:\s*/i;

/** A size, or a floor (`atLeast:`), or undefined when it does not parse. */
export function parseSizeSpec(value: unknown): { bytes: number; atLeast: boolean } | undefined {
  const atLeast = typeof value === "string" && atLeastPrefix.test(value);
  const bytes = parseSize(atLeast ? (value as string).replace(atLeastPrefix, "") : value);
  return bytes === undefined ? undefined : { bytes, atLeast };
}

export const sizeHelp =
  'bytes (a number) or a string such as "20GiB", "512MiB", "1TiB" (units B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)';

/** What a Vdi's size accepts: a size, or a floor that keeps a disk grown outside Pulumi. */
export const diskSizeHelp = `${sizeHelp}, or "atLeast:20GiB" to accept a disk grown beyond it`;

/** Human form for messages: 21474836480 -> "20 GiB", 2040 GiB stays "2040 GiB", 1.5 KiB -> "1.5 KiB". */
export function formatSize(bytes: number): string {
  const steps = [
    ["TiB", 1024 ** 4],
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const;
  for (const [unit, f] of steps) if (bytes >= f && bytes % f === 0) return `${bytes / f} ${unit}`;
  for (const [unit, f] of steps) if (bytes >= f) return `${+(bytes / f).toFixed(2)} ${unit}`;
  return `${bytes} B`;
}
