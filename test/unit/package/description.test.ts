// npm shows package.json's description before anything else: it must claim no resource kind the provider does not
// serve and name every one it does. When a kind lands (Vm…), this fails until the description says so.
import * as fs from "node:fs";
import * as path from "node:path";
import { resourceKinds } from "../../../provider/resources/registry";

const { description } = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../../package.json"), "utf8")) as {
  description: string;
};

/** How the description names each kind; a kind it names must be served, and the other way round. */
const nouns: Record<string, RegExp> = {
  Pool: /\bpools\b/i,
  Network: /\bnetworks\b/i,
  Sr: /\bstorage repositories\b/i,
  Vdi: /\bvirtual disks\b/i,
  Vm: /\bVMs\b/,
};

describe("package.json description", () => {
  it.each(Object.entries(nouns))("names %s as managed exactly when the provider serves it", (kind, noun) => {
    const served = kind in resourceKinds;
    // "no VMs yet" names the kind without claiming it.
    const claimed = noun.test(description.replace(/\bno [^;,)]*\byet\b/gi, ""));
    expect({ kind, claimed }).toEqual({ kind, claimed: served });
  });

  it("knows how the description names every kind the provider serves", () => {
    expect(Object.keys(resourceKinds).filter((k) => !(k in nouns))).toEqual([]);
  });
});
