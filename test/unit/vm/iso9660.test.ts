// The cloud-init drive's ISO9660 writer, checked by independent readers: isoinfo (from genisoimage) lists and
// extracts the files, blkid-style label reading sees "cidata", and the Joliet names match genisoimage's image
// of the same files. .ci/run installs genisoimage.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildIso, level1Name, readIsoFiles } from "../../../provider/resources/common/iso9660";

const files = {
  "user-data": "#cloud-config\nhostname: web-1\npackages: [nginx]\n",
  "meta-data": "instance-id: web-1\nlocal-hostname: web-1\n",
  "network-config": "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n",
};

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "iso9660-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function ours(): string {
  const iso = path.join(dir, "ours.iso");
  const image = buildIso(
    "cidata",
    Object.entries(files).map(([name, text]) => ({ name, data: Buffer.from(text) })),
    new Date(Date.UTC(2026, 11, 7, 3, 0, 0)),
  );
  fs.writeFileSync(iso, image);
  return iso;
}

function theirs(): string {
  const src = path.join(dir, "src");
  fs.mkdirSync(src, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(src, name), text);
  const iso = path.join(dir, "genisoimage.iso");
  execFileSync("genisoimage", [
    "-quiet",
    "-output",
    iso,
    "-volid",
    "cidata",
    "-joliet",
    "-rock",
    ...Object.keys(files).map((f) => path.join(src, f)),
  ]);
  return iso;
}

const isoinfo = (...args: string[]) => execFileSync("isoinfo", args, { encoding: "utf8" });

describe("ISO9660 + Joliet writer (cloud-init NoCloud drive)", () => {
  it("isoinfo reads our volume label, Joliet level and every file's content", () => {
    const iso = ours();
    const d = isoinfo("-d", "-i", iso);
    expect(d).toMatch(/Volume id: cidata/);
    expect(d).toMatch(/Joliet with UCS level 3 found/);
    expect(d).toMatch(/Logical block size is: 2048/);
    for (const [name, text] of Object.entries(files)) expect(isoinfo("-J", "-x", `/${name}`, "-i", iso)).toBe(text);
    // Plain ISO9660 readers see the 8.3 names.
    expect(isoinfo("-l", "-i", iso)).toMatch(/USER_DAT\.;1/);
  });

  it("lists the same Joliet names and sizes as genisoimage's image of the same files", () => {
    const names = (iso: string) =>
      isoinfo("-J", "-l", "-i", iso)
        .split("\n")
        .filter((l) => /^-/.test(l))
        .map((l) => {
          const parts = l.trim().split(/\s+/);
          return `${parts[parts.length - 1]} ${parts[4]}`;
        })
        .sort();
    expect(names(ours())).toEqual(names(theirs()));
  });

  it("our reader reads genisoimage's image (the reader the tests and the simulated guest use)", () => {
    const g = readIsoFiles(fs.readFileSync(theirs()));
    expect(g.label).toBe("cidata");
    expect(Object.fromEntries(Object.entries(g.files).map(([k, v]) => [k, v.toString()]))).toEqual(files);
    const o = readIsoFiles(fs.readFileSync(ours()));
    expect(o.label).toBe("cidata");
    expect(Object.fromEntries(Object.entries(o.files).map(([k, v]) => [k, v.toString()]))).toEqual(files);
  });

  it("8.3 names are unique and upper case", () => {
    const taken = new Set<string>();
    expect(level1Name("user-data", taken)).toBe("USER_DAT.;1");
    expect(level1Name("user-data2", taken)).toBe("USER_DA1.;1");
    expect(level1Name("a.yaml", taken)).toBe("A.YAM;1");
  });
});
