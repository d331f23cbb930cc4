// The cloud-init NoCloud config drive: an ISO9660 volume labelled "cidata" holding user-data, meta-data and
// network-config, uploaded as a small VDI and attached as a read-only disk (a VM has one CD drive, which the
// program may use for an ISO).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Xapi } from "../common/connection";
import { buildIso } from "../common/iso9660";
import type { Inputs } from "./inputs";

const MiB = 1024 * 1024;

/** The drive's files; meta-data defaults to the VM's name as instance-id and local-hostname. */
export function cloudInitFiles(n: Inputs): Array<{ name: string; data: Buffer }> {
  const c = n.cloudInit!;
  const meta = c.metaData ?? `instance-id: ${n.name}\nlocal-hostname: ${n.name}\n`;
  return [
    { name: "user-data", data: Buffer.from(c.userData) },
    { name: "meta-data", data: Buffer.from(meta) },
    ...(c.networkConfig !== undefined ? [{ name: "network-config", data: Buffer.from(c.networkConfig) }] : []),
  ];
}

/** Makes the drive's VDI on `sr` and fills it; returns its ref. The temporary image is removed at once. */
export async function uploadCloudInit(xapi: Xapi, sr: string, n: Inputs): Promise<string> {
  const image = buildIso("cidata", cloudInitFiles(n));
  const size = Math.max(MiB, Math.ceil(image.length / MiB) * MiB);
  const ref = await xapi.call<string>("VDI.create", {
    SR: sr,
    virtual_size: size,
    type: "user",
    sharable: false,
    read_only: false,
    name_label: `${n.name} cloud-init`,
    name_description: `cloud-init NoCloud config drive of VM ${n.name}`,
    other_config: {},
    xenstore_data: {},
    sm_config: {},
    tags: [],
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-xenserver-cidata-"));
  const file = path.join(dir, "cidata.iso");
  try {
    // The user-data may be a secret: the file is private to this user and gone once uploaded.
    fs.writeFileSync(file, Buffer.concat([image, Buffer.alloc(size - image.length)]), { mode: 0o600 });
    await xapi.importRawVdi(ref, file, { format: "raw" });
  } catch (err) {
    await xapi.call("VDI.destroy", ref).catch(() => undefined);
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return ref;
}
