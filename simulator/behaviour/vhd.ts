/**
 * Reading VHD images (Microsoft's Virtual Hard Disk Image Format Specification) into raw disk contents:
 * fixed disks (data + footer) and dynamic disks (footer copy, dynamic header "cxsparse", BAT, blocks).
 */
export class VhdError extends Error {}

const SECTOR = 512;

export interface VhdImage {
  virtualSize: number;
  /** The disk's bytes up to the last allocated block; anything beyond reads as zeros. */
  data: Buffer;
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
  if (diskType === 2) return { virtualSize, data: buf.subarray(0, Math.min(virtualSize, buf.length - SECTOR)) };
  if (diskType !== 3 && diskType !== 4) throw new VhdError(`unsupported VHD disk type ${diskType}`);
  if (diskType === 4) throw new VhdError("differencing VHDs need their parent");
  const headerOffset = Number(footer.readBigUInt64BE(16));
  const header = buf.subarray(headerOffset, headerOffset + 1024);
  if (header.length < 1024 || header.toString("latin1", 0, 8) !== "cxsparse") throw new VhdError("no dynamic disk header");
  const batOffset = Number(header.readBigUInt64BE(16));
  const entries = header.readUInt32BE(28);
  const blockSize = header.readUInt32BE(32);
  const bitmapBytes = Math.ceil(blockSize / SECTOR / 8 / SECTOR) * SECTOR;
  let last = -1;
  for (let i = 0; i < entries; i++) if (buf.readUInt32BE(batOffset + 4 * i) !== 0xffffffff) last = i;
  const data = Buffer.alloc(Math.min(virtualSize, (last + 1) * blockSize));
  for (let i = 0; i <= last; i++) {
    const sector = buf.readUInt32BE(batOffset + 4 * i);
    if (sector === 0xffffffff) continue;
    const start = sector * SECTOR + bitmapBytes;
    if (start + blockSize > buf.length - SECTOR) throw new VhdError(`block ${i} is truncated`);
    buf.copy(data, i * blockSize, start, start + Math.min(blockSize, data.length - i * blockSize));
  }
  return { virtualSize, data };
}
