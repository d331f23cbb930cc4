/**
 * Reading VHD images (Microsoft's Virtual Hard Disk Image Format Specification) into raw disk contents:
 * fixed disks (data + footer) and dynamic disks (footer copy, dynamic header "cxsparse", BAT, blocks).
 */
export class VhdError extends Error {}

const SECTOR = 512;

export interface VhdImage {
  virtualSize: number;
  /** What the image holds, as writes at disk offsets (unallocated blocks leave the disk as it was). */
  writes: { offset: number; data: Buffer }[];
}

function footerAt(buf: Buffer, at: number): Buffer | undefined {
  if (at < 0 || at + SECTOR > buf.length) return undefined;
  const f = buf.subarray(at, at + SECTOR);
  return f.toString("latin1", 0, 8) === "conectix" ? f : undefined;
}

export function readVhd(buf: Buffer): VhdImage {
  const footer = footerAt(buf, buf.length - SECTOR) ?? footerAt(buf, buf.length - SECTOR + 1) ?? footerAt(buf, 0);
  if (!footer) throw new VhdError("no VHD footer");
  const virtualSize = Number(footer.readBigUInt64BE(48));
  const diskType = footer.readUInt32BE(60);
  if (diskType === 2)
    return { virtualSize, writes: [{ offset: 0, data: buf.subarray(0, Math.min(virtualSize, buf.length - SECTOR)) }] };
  if (diskType !== 3 && diskType !== 4) throw new VhdError(`unsupported VHD disk type ${diskType}`);
  if (diskType === 4) throw new VhdError("differencing VHDs need their parent");
  const headerOffset = Number(footer.readBigUInt64BE(16));
  const header = buf.subarray(headerOffset, headerOffset + 1024);
  if (header.length < 1024 || header.toString("latin1", 0, 8) !== "cxsparse")
    throw new VhdError("no dynamic disk header");
  const batOffset = Number(header.readBigUInt64BE(16));
  const entries = header.readUInt32BE(28);
  const blockSize = header.readUInt32BE(32);
  const bitmapBytes = Math.ceil(blockSize / SECTOR / 8 / SECTOR) * SECTOR;
  const writes: { offset: number; data: Buffer }[] = [];
  for (let i = 0; i < entries; i++) {
    const sector = buf.readUInt32BE(batOffset + 4 * i);
    if (sector === 0xffffffff) continue;
    const start = sector * SECTOR + bitmapBytes;
    const length = Math.min(blockSize, virtualSize - i * blockSize);
    if (start + length > buf.length - SECTOR) throw new VhdError(`block ${i} is truncated`);
    writes.push({ offset: i * blockSize, data: buf.subarray(start, start + length) });
  }
  return { virtualSize, writes };
}
