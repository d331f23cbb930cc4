/**
 * Reads a cloud-init NoCloud seed as the guest's kernel would mount it: an ISO9660 or FAT filesystem on a whole
 * disk whose volume label is `cidata` or `CIDATA` (cloud-init docs, datasources/nocloud), giving the files at its
 * root. Only what a seed needs: root directory, Joliet and Rock Ridge names on ISO9660, FAT12/16/32 with long names.
 */

export interface SeedFiles {
  fs: "iso9660" | "vfat";
  label: string;
  /** Root directory files by name, as the mounted filesystem shows them. */
  files: Map<string, Buffer>;
}

const LABELS = new Set(["cidata", "CIDATA"]);

export function readSeed(disk: Buffer): SeedFiles | undefined {
  return readIso(disk) ?? readFat(disk);
}

// ---------------------------------------------------------------- ISO9660 (ECMA-119, Joliet, Rock Ridge)

const SECTOR = 2048;

interface DirEntry {
  name: string;
  lba: number;
  size: number;
  isDir: boolean;
}

function readIso(disk: Buffer): SeedFiles | undefined {
  let primary: Buffer | undefined;
  let joliet: Buffer | undefined;
  for (let s = 16; (s + 1) * SECTOR <= disk.length; s++) {
    const vd = disk.subarray(s * SECTOR, (s + 1) * SECTOR);
    if (vd.toString("latin1", 1, 6) !== "CD001") return undefined;
    const type = vd[0];
    if (type === 255) break;
    if (type === 1) primary = vd;
    // A supplementary descriptor with a UCS-2 escape sequence is Joliet (%/@, %/C, %/E).
    if (type === 2 && vd[88] === 0x25 && vd[89] === 0x2f && [0x40, 0x43, 0x45].includes(vd[90])) joliet = vd;
  }
  if (!primary) return undefined;
  const label = primary.toString("latin1", 40, 72).trimEnd();
  if (!LABELS.has(label)) return undefined;
  // Linux prefers Joliet names, then Rock Ridge, then the plain ISO9660 names (lower-cased, no ";1").
  const entries = joliet ? isoDir(disk, joliet, true) : isoDir(disk, primary, false);
  const files = new Map<string, Buffer>();
  for (const e of entries)
    if (!e.isDir && e.lba * SECTOR + e.size <= disk.length)
      files.set(e.name, disk.subarray(e.lba * SECTOR, e.lba * SECTOR + e.size));
  return { fs: "iso9660", label, files };
}

function isoDir(disk: Buffer, vd: Buffer, ucs2: boolean): DirEntry[] {
  const root = vd.subarray(156, 156 + 34);
  const start = root.readUInt32LE(2) * SECTOR;
  const end = Math.min(disk.length, start + root.readUInt32LE(10));
  const out: DirEntry[] = [];
  for (let p = start; p < end;) {
    const len = disk[p];
    if (len === 0) {
      p = (Math.floor(p / SECTOR) + 1) * SECTOR; // records do not cross sectors
      continue;
    }
    const rec = disk.subarray(p, p + len);
    p += len;
    const nameLen = rec[32];
    const raw = rec.subarray(33, 33 + nameLen);
    if (nameLen === 1 && (raw[0] === 0 || raw[0] === 1)) continue; // "." and ".."
    const isDir = (rec[25] & 2) !== 0;
    let name = ucs2 ? ucs2be(raw) : (rockRidgeName(rec.subarray(33 + nameLen + (nameLen % 2 === 0 ? 1 : 0))) ?? "");
    if (!name) name = raw.toString("latin1").toLowerCase();
    name = name.replace(/;\d+$/, "");
    if (!ucs2 && !isDir) name = name.replace(/\.$/, "");
    out.push({ name, lba: rec.readUInt32LE(2), size: rec.readUInt32LE(10), isDir });
  }
  return out;
}

function ucs2be(b: Buffer): string {
  let s = "";
  for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode(b.readUInt16BE(i));
  return s;
}

/** The Rock Ridge NM entries of a record's system use area, joined (continuations are not followed). */
function rockRidgeName(su: Buffer): string | undefined {
  let name: string | undefined;
  for (let i = 0; i + 4 <= su.length;) {
    const sig = su.toString("latin1", i, i + 2);
    const len = su[i + 2];
    if (len < 4) break;
    if (sig === "NM") name = (name ?? "") + su.toString("utf8", i + 5, i + len);
    i += len;
  }
  return name;
}

// ---------------------------------------------------------------- FAT12/16/32

function readFat(disk: Buffer): SeedFiles | undefined {
  if (disk.length < 512 || disk[510] !== 0x55 || disk[511] !== 0xaa) return undefined;
  const bps = disk.readUInt16LE(11);
  const spc = disk[13];
  const reserved = disk.readUInt16LE(14);
  const nFats = disk[16];
  const rootEntries = disk.readUInt16LE(17);
  const total = disk.readUInt16LE(19) || disk.readUInt32LE(32);
  const fatSize = disk.readUInt16LE(22) || disk.readUInt32LE(36);
  if (![512, 1024, 2048, 4096].includes(bps) || spc === 0 || nFats === 0 || fatSize === 0) return undefined;
  const rootSectors = Math.ceil((rootEntries * 32) / bps);
  const dataStart = reserved + nFats * fatSize + rootSectors;
  const clusters = Math.floor((total - dataStart) / spc);
  const kind = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
  const fatOff = reserved * bps;
  const clusterBytes = spc * bps;
  const next = (c: number): number => {
    if (kind === 12) {
      const v = disk.readUInt16LE(fatOff + Math.floor(c * 1.5));
      return c % 2 ? v >> 4 : v & 0xfff;
    }
    return kind === 16 ? disk.readUInt16LE(fatOff + c * 2) : disk.readUInt32LE(fatOff + c * 4) & 0x0fffffff;
  };
  const eoc = kind === 12 ? 0xff8 : kind === 16 ? 0xfff8 : 0x0ffffff8;
  const chain = (first: number, size?: number): Buffer => {
    const parts: Buffer[] = [];
    for (let c = first, n = 0; c >= 2 && c < eoc && n < clusters; c = next(c), n++) {
      const off = (dataStart + (c - 2) * spc) * bps;
      parts.push(disk.subarray(off, off + clusterBytes));
    }
    const all = Buffer.concat(parts);
    return size === undefined ? all : all.subarray(0, size);
  };
  const root =
    kind === 32
      ? chain(disk.readUInt32LE(44))
      : disk.subarray((reserved + nFats * fatSize) * bps, (reserved + nFats * fatSize + rootSectors) * bps);
  const bootLabel = disk.toString("latin1", kind === 32 ? 71 : 43, kind === 32 ? 82 : 54).trimEnd();
  let label = bootLabel;
  const files = new Map<string, Buffer>();
  let lfn: string[] = [];
  for (let p = 0; p + 32 <= root.length; p += 32) {
    const e = root.subarray(p, p + 32);
    if (e[0] === 0) break;
    if (e[0] === 0xe5) {
      lfn = [];
      continue;
    }
    const attr = e[11];
    if (attr === 0x0f) {
      // Long name pieces come last-first; each holds 13 UCS-2 characters.
      const chars: number[] = [];
      for (const [a, b] of [
        [1, 11],
        [14, 26],
        [28, 32],
      ])
        for (let i = a; i < b; i += 2) chars.push(e.readUInt16LE(i));
      const end = chars.indexOf(0);
      lfn.unshift(String.fromCharCode(...(end >= 0 ? chars.slice(0, end) : chars).filter((ch) => ch !== 0xffff)));
      continue;
    }
    // blkid takes the label from the root directory's volume entry when there is one.
    if (attr & 0x08) {
      label = e.toString("latin1", 0, 11).trimEnd();
      lfn = [];
      continue;
    }
    const short = shortName(e);
    const name = lfn.length ? lfn.join("") : short;
    lfn = [];
    if (attr & 0x10) continue;
    const first = ((kind === 32 ? e.readUInt16LE(20) : 0) << 16) | e.readUInt16LE(26);
    files.set(name, chain(first, e.readUInt32LE(28)));
  }
  if (!LABELS.has(label)) return undefined;
  return { fs: "vfat", label, files };
}

function shortName(e: Buffer): string {
  let base = e.toString("latin1", 0, 8).trimEnd();
  let ext = e.toString("latin1", 8, 11).trimEnd();
  // Windows NT's case bits: base and/or extension stored upper-case but shown lower-case.
  if (e[12] & 0x08) base = base.toLowerCase();
  if (e[12] & 0x10) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}
