// Local disk images given as a VDI source: content hash and virtual size.
import * as crypto from "node:crypto";
import * as fs from "node:fs";

const hashes = new Map<string, string>();

/** sha256 of the file, cached per (path, size, mtime) for the life of the process. */
export async function fileSha256(path: string): Promise<string> {
  const st = fs.statSync(path);
  const key = `${path}\u0000${st.size}\u0000${st.mtimeMs}`;
  const cached = hashes.get(key);
  if (cached) return cached;
  const h = crypto.createHash("sha256");
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(path)
      .on("data", (d) => h.update(d))
      .on("end", resolve)
      .on("error", reject);
  });
  const digest = `sha256:${h.digest("hex")}`;
  hashes.set(key, digest);
  return digest;
}

/**
 * The virtual size of a disk image: the file size for raw, the "current size"
 * field of the footer for a VHD (last 512 bytes, big-endian at offset 48).
 */
export function imageVirtualSize(path: string, format: "raw" | "vhd"): number {
  const st = fs.statSync(path);
  if (format === "raw") return st.size;
  if (st.size < 512) throw new Error(`source.path: ${path} is too small to be a VHD (${st.size} bytes)`);
  const fd = fs.openSync(path, "r");
  try {
    const footer = Buffer.alloc(512);
    fs.readSync(fd, footer, 0, 512, st.size - 512);
    if (footer.toString("latin1", 0, 8) !== "conectix")
      throw new Error(
        `source.path: ${path} has no VHD footer ("conectix" cookie); is it a raw image? Use format "raw"`,
      );
    return Number(footer.readBigUInt64BE(48));
  } finally {
    fs.closeSync(fd);
  }
}
