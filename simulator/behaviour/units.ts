/** Sizes and small helpers shared by behaviour modules. */
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** "10G", "512M", "1536G" as the guest templates spell sizes. */
export function parseSize(s: string): number {
  const m = /^([0-9.]+)\s*([KMGT]?)i?B?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size ${s}`);
  const mult: Record<string, number> = { "": 1, K: KiB, M: MiB, G: GiB, T: GiB * 1024 };
  return Math.round(Number(m[1]) * mult[m[2].toUpperCase()]);
}

/** A locally administered unicast MAC from a seed string (deterministic). */
export function macFrom(seed: string): string {
  let h = 2166136261;
  const bytes: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const ch of `${seed}/${round}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    bytes.push(h & 0xff);
  }
  return ["02", ...bytes.map((b) => b.toString(16).padStart(2, "0"))].join(":");
}
