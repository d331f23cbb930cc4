// A minimal ISO9660 writer for cloud-init NoCloud drives: one root directory of small files, with a Joliet
// supplementary descriptor so that names such as "user-data" survive (plain ISO9660 names are 8.3 upper case).
// Layout (2048-byte sectors): 16 system sectors, primary descriptor, Joliet descriptor, terminator, four path
// tables, the two root directories, then the files. ECMA-119 and the Joliet specification give the fields.
// No npm package writes ISO9660 in a maintained way; test/unit/iso9660.test.ts reads the result with isoinfo
// and compares it with genisoimage's image of the same files.

const SECTOR = 2048;

interface IsoFile {
  name: string;
  data: Buffer;
}

function both16(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(v, 0);
  b.writeUInt16BE(v, 2);
  return b;
}

function both32(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(v, 0);
  b.writeUInt32BE(v, 4);
  return b;
}

/** Seven-byte directory-record date (years since 1900 … seconds, GMT offset 0). */
function recordDate(d: Date): Buffer {
  return Buffer.from([
    d.getUTCFullYear() - 1900,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    0,
  ]);
}

/** Seventeen-byte descriptor date: "YYYYMMDDHHMMSScc" and a GMT offset byte. */
function descriptorDate(d: Date | undefined): Buffer {
  if (!d) return Buffer.concat([Buffer.from("0000000000000000", "latin1"), Buffer.from([0])]);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const s = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`;
  return Buffer.concat([Buffer.from(s, "latin1"), Buffer.from([0])]);
}

function dirRecord(name: Buffer, lba: number, size: number, isDir: boolean, date: Date): Buffer {
  const len = 33 + name.length + (name.length % 2 === 0 ? 1 : 0);
  const r = Buffer.alloc(len);
  r[0] = len;
  both32(lba).copy(r, 2);
  both32(size).copy(r, 10);
  recordDate(date).copy(r, 18);
  r[25] = isDir ? 2 : 0;
  both16(1).copy(r, 28);
  r[32] = name.length;
  name.copy(r, 33);
  return r;
}

function ucs2(s: string): Buffer {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return b;
}

/** A text field padded with spaces: single-byte for the primary descriptor, UCS-2 for Joliet. */
function field(s: string, width: number, joliet: boolean): Buffer {
  if (!joliet) return Buffer.from(s.padEnd(width, " ").slice(0, width), "latin1");
  const b = Buffer.alloc(width);
  for (let i = 0; i + 1 < width; i += 2) b.writeUInt16BE(0x20, i);
  ucs2(s.slice(0, Math.floor(width / 2))).copy(b);
  return b;
}

/** The 8.3 upper-case name plain ISO9660 readers see: "user-data" becomes "USER_DAT.;1". */
export function level1Name(name: string, taken: Set<string>): string {
  const clean = (s: string) => s.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  const dot = name.lastIndexOf(".");
  const base = clean(dot > 0 ? name.slice(0, dot) : name).slice(0, 8);
  const ext = clean(dot > 0 ? name.slice(dot + 1) : "").slice(0, 3);
  let candidate = `${base}.${ext}`;
  for (let i = 1; taken.has(candidate); i++) candidate = `${base.slice(0, 8 - String(i).length)}${i}.${ext}`;
  taken.add(candidate);
  return `${candidate};1`;
}

function pathTable(rootLba: number, bigEndian: boolean): Buffer {
  const t = Buffer.alloc(10);
  t[0] = 1;
  if (bigEndian) {
    t.writeUInt32BE(rootLba, 2);
    t.writeUInt16BE(1, 6);
  } else {
    t.writeUInt32LE(rootLba, 2);
    t.writeUInt16LE(1, 6);
  }
  return t;
}

function descriptor(
  type: 1 | 2,
  label: string,
  totalSectors: number,
  pathTableLbas: [number, number],
  root: Buffer,
  date: Date,
): Buffer {
  const joliet = type === 2;
  const d = Buffer.alloc(SECTOR);
  d[0] = type;
  d.write("CD001", 1, "latin1");
  d[6] = 1;
  field("", 32, joliet).copy(d, 8);
  field(label, 32, joliet).copy(d, 40);
  both32(totalSectors).copy(d, 80);
  if (joliet) d.write("%/E", 88, "latin1"); // UCS-2 level 3
  both16(1).copy(d, 120);
  both16(1).copy(d, 124);
  both16(SECTOR).copy(d, 128);
  both32(10).copy(d, 132);
  d.writeUInt32LE(pathTableLbas[0], 140);
  d.writeUInt32BE(pathTableLbas[1], 148);
  root.copy(d, 156);
  for (const [off, width] of [
    [190, 128],
    [318, 128],
    [446, 128],
    [574, 128],
    [702, 37],
    [739, 37],
    [776, 37],
  ])
    field("", width, joliet).copy(d, off);
  descriptorDate(date).copy(d, 813);
  descriptorDate(date).copy(d, 830);
  descriptorDate(undefined).copy(d, 847);
  descriptorDate(undefined).copy(d, 864);
  d[881] = 1;
  return d;
}

/** An ISO9660 + Joliet image holding `files` in its root directory, with volume label `label`. */
export function buildIso(label: string, files: IsoFile[], date = new Date(0)): Buffer {
  if (files.length > 40) throw new Error("buildIso: at most 40 files (one directory sector)");
  const pvdLba = 16;
  const [lPath, mPath, jlPath, jmPath] = [19, 20, 21, 22];
  const rootLba = 23;
  const jRootLba = 24;
  let next = 25;
  const extents = files.map((f) => {
    const lba = next;
    next += Math.max(1, Math.ceil(f.data.length / SECTOR));
    return lba;
  });
  const total = next;
  const taken = new Set<string>();
  const sorted = files.map((f, i) => ({ ...f, lba: extents[i], short: level1Name(f.name, taken) }));
  const rootDir = (joliet: boolean, lba: number) => {
    const entries = [
      dirRecord(Buffer.from([0]), lba, SECTOR, true, date),
      dirRecord(Buffer.from([1]), lba, SECTOR, true, date),
      // Directory records are sorted by name (ECMA-119 9.3).
      ...[...sorted]
        .sort((a, b) => (joliet ? a.name.localeCompare(b.name) : a.short.localeCompare(b.short)))
        .map((f) =>
          dirRecord(joliet ? ucs2(f.name) : Buffer.from(f.short, "latin1"), f.lba, f.data.length, false, date),
        ),
    ];
    const sector = Buffer.alloc(SECTOR);
    Buffer.concat(entries).copy(sector);
    return sector;
  };
  const rootRecord = (lba: number) => dirRecord(Buffer.from([0]), lba, SECTOR, true, date);
  const image = Buffer.alloc(total * SECTOR);
  descriptor(1, label, total, [lPath, mPath], rootRecord(rootLba), date).copy(image, pvdLba * SECTOR);
  descriptor(2, label, total, [jlPath, jmPath], rootRecord(jRootLba), date).copy(image, 17 * SECTOR);
  const term = Buffer.alloc(SECTOR);
  term[0] = 255;
  term.write("CD001", 1, "latin1");
  term[6] = 1;
  term.copy(image, 18 * SECTOR);
  pathTable(rootLba, false).copy(image, lPath * SECTOR);
  pathTable(rootLba, true).copy(image, mPath * SECTOR);
  pathTable(jRootLba, false).copy(image, jlPath * SECTOR);
  pathTable(jRootLba, true).copy(image, jmPath * SECTOR);
  rootDir(false, rootLba).copy(image, rootLba * SECTOR);
  rootDir(true, jRootLba).copy(image, jRootLba * SECTOR);
  for (const f of sorted) f.data.copy(image, f.lba * SECTOR);
  return image;
}

/** Reads back the Joliet root directory of an image written by buildIso (or genisoimage -J): name → content. */
export function readIsoFiles(image: Buffer): { label: string; files: Record<string, Buffer> } {
  let sector = 16;
  let joliet: Buffer | undefined;
  let primary: Buffer | undefined;
  for (; sector * SECTOR < image.length; sector++) {
    const d = image.subarray(sector * SECTOR, (sector + 1) * SECTOR);
    if (d[0] === 255) break;
    if (d[0] === 1) primary = d;
    if (d[0] === 2 && d.toString("latin1", 88, 91).startsWith("%/")) joliet = d;
  }
  if (!primary) throw new Error("not an ISO9660 image: no primary volume descriptor");
  const label = primary.toString("latin1", 40, 72).trimEnd();
  const desc = joliet ?? primary;
  const rootLba = desc.readUInt32LE(156 + 2);
  const rootSize = desc.readUInt32LE(156 + 10);
  const dir = image.subarray(rootLba * SECTOR, rootLba * SECTOR + rootSize);
  const files: Record<string, Buffer> = {};
  for (let off = 0; off < dir.length;) {
    const len = dir[off];
    if (len === 0) {
      off = (Math.floor(off / SECTOR) + 1) * SECTOR;
      continue;
    }
    const nameLen = dir[off + 32];
    const raw = dir.subarray(off + 33, off + 33 + nameLen);
    const isDir = (dir[off + 25] & 2) !== 0;
    if (!isDir) {
      let name = joliet ? "" : raw.toString("latin1");
      if (joliet) for (let i = 0; i + 1 < raw.length; i += 2) name += String.fromCharCode(raw.readUInt16BE(i));
      name = name.replace(/;1$/, "");
      const lba = dir.readUInt32LE(off + 2);
      const size = dir.readUInt32LE(off + 10);
      files[name] = Buffer.from(image.subarray(lba * SECTOR, lba * SECTOR + size));
    }
    off += len;
  }
  return { label, files };
}
