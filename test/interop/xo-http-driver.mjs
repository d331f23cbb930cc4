// Uploads and downloads a disk through Xen Orchestra's `xen-api` client (putResource / getResource against
// /import_raw_vdi and /export_raw_vdi) and prints what it saw as one JSON object.
// Usage: node xo-http-driver.mjs <url> <user> <password>
import { Readable } from "node:stream";
import { createClient } from "xen-api";

const [url, user, password] = process.argv.slice(2);
const MiB = 1024 * 1024;
const out = {};
const xapi = createClient({ url, auth: { user, password }, allowUnauthorized: true });
await xapi.connect();
const [sr] = await xapi.call("SR.get_by_name_label", "Local storage");
const newVdi = () =>
  xapi.call("VDI.create", {
    SR: sr,
    virtual_size: 4 * MiB,
    type: "user",
    sharable: false,
    read_only: false,
    other_config: {},
  });
const pattern = Buffer.alloc(MiB);
for (let i = 0; i < pattern.length; i++) pattern[i] = i % 251;

const download = async (vdi) => {
  const res = await xapi.getResource("/export_raw_vdi", { query: { vdi, format: "raw" }, task: true });
  const chunks = [];
  for await (const c of res.body) chunks.push(c);
  await res.task;
  return Buffer.concat(chunks);
};

try {
  const vdi = await newVdi();
  const result = await xapi.putResource(pattern, "/import_raw_vdi", { query: { vdi, format: "raw" }, task: true });
  const back = await download(vdi);
  out.buffer = {
    result,
    length: back.length,
    same: back.subarray(0, MiB).equals(pattern),
    zeros: back.subarray(MiB).every((b) => b === 0),
  };
} catch (e) {
  out.buffer = { error: String(e.code ?? e.message) };
}

try {
  // A stream of unknown length: XO sends a probe request, then the 1 PiB Content-Length hack and cuts the connection.
  const vdi = await newVdi();
  const stream = Readable.from(
    (function* () {
      yield pattern.subarray(0, MiB / 2);
      yield pattern.subarray(MiB / 2);
    })(),
  );
  await xapi.putResource(stream, "/import_raw_vdi", { query: { vdi, format: "raw" }, task: true });
  const back = await download(vdi);
  out.stream = { same: back.subarray(0, MiB).equals(pattern) };
} catch (e) {
  out.stream = { error: String(e.code ?? e.message) };
}

await xapi.disconnect();
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
