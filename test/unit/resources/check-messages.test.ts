// Issue 9 item 5: what the engine prints for a check failure. It prints `property <p> value <inputs[p]>`, looking <p>
// up as a top-level key, so nested fields printed `value {<nil>}` and deviceConfig `{[secret]}`; failures now go out
// with no property and a reason that shows the value given (passwords excepted) and what is allowed.
import { configure, dispatch } from "../../../provider/host";
import { setConnector, type Xapi } from "../../../provider/resources/common/connection";
import type { CheckResult } from "../../../provider/resources/contract";

const sr = "5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21";

beforeAll(() => {
  const settings: Record<string, string> = {
    "xenserver:url": "https://pool.invalid",
    "xenserver:username": "root",
    "xenserver:password": "pw",
  };
  configure({ get: (k) => settings[k] });
  // check() connects first (at preview); these inputs fail before any call.
  setConnector(async () => ({}) as Xapi);
});
afterAll(() => setConnector(undefined));

async function failuresOf(kind: string, news: Record<string, unknown>) {
  const r = (await dispatch(kind, "check", {}, news)) as CheckResult;
  expect(r.failures?.length).toBeGreaterThan(0);
  return r.failures!;
}

describe("check failure messages", () => {
  it.each([
    [
      "a negative size in bytes says it must be positive",
      "Vdi",
      { sr, name: "d", size: -5 },
      /^size: .*must be a positive whole number \(given -5\)/,
    ],
    [
      "a size of true says a number or a string",
      "Vdi",
      { sr, name: "d", size: true },
      /^size: must be a number or a string \(given true\)$/,
    ],
    [
      "a size that does not parse shows it",
      "Vdi",
      { sr, name: "d", size: "20 gigs" },
      /^size: "20 gigs" is not a size; use bytes/,
    ],
    [
      "a nested deviceConfig value shows what was given and what is allowed",
      "Sr",
      { type: "nfs", name: "s", deviceConfig: { server: "192.0.2.1", serverpath: "/x", nfsversion: "5" } },
      /^deviceConfig\.nfsversion: must be "3" or a version 4 \("4", "4\.0", "4\.1", "4\.2"\) \(given "5"\)$/,
    ],
    [
      "a nested bond mode shows what was given",
      "Network",
      { name: "n", bond: { nics: ["eth2", "eth3"], mode: "fast" } },
      /^bond\.mode: must be one of .*"balance-slb".* \(given "fast"\)$/,
    ],
    ["an empty tag shows it", "Network", { name: "n", tags: [""] }, /^tags\[0\]: must not be empty \(given ""\)$/],
    ["an MTU out of range shows it", "Network", { name: "n", mtu: 9300 }, /^mtu: must be ≤ 9216 \(given 9300\)$/],
  ])("%s", async (_name, kind, news, reason) => {
    const failures = await failuresOf(kind, news);
    expect(failures.map((f) => f.reason)).toContainEqual(expect.stringMatching(reason));
    // No property: the engine would print the top-level input for it ({<nil>} for a nested one, {[secret]}).
    expect(failures.every((f) => f.property === "")).toBe(true);
  });

  it("never shows a password, even inside a whole deviceConfig", async () => {
    const failures = await failuresOf("Sr", {
      type: "smb",
      name: "s",
      deviceConfig: { server: "//192.0.2.1/share", password: "hunter2-secret", colour: "blue" },
    });
    const text = failures.map((f) => f.reason).join("\n");
    expect(text).toMatch(/deviceConfig: unknown key\(s\) "colour"/);
    expect(text).not.toContain("hunter2-secret");
  });

  it("does not repeat a value the reason already names", async () => {
    const failures = await failuresOf("Sr", { type: "nfs", name: "s", deviceConfig: {}, connection: "lab" });
    const connection = failures.find((f) => f.reason.startsWith("connection:"))!;
    expect(connection.reason).toMatch(/^connection: connection "lab" is not configured/);
    expect(connection.reason).not.toMatch(/given/);
  });
});
