// Every example under examples/ deploys from the packed package onto the
// simulator, plans no changes afterwards, and destroys cleanly.
import * as fs from "node:fs";
import * as path from "node:path";
import { startSimulator, type Simulator } from "../../simulator";
import { E2EStack, repoRoot } from "./harness";

const examples = fs
  .readdirSync(path.join(repoRoot, "examples"))
  .filter((d) => fs.existsSync(path.join(repoRoot, "examples", d, "index.ts")));

describe.each(examples)("example %s", (name) => {
  let sim: Simulator;
  const stack = new E2EStack(`example-${name}`);
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, username: "root", password: "example-pw", hosts: 2 });
  });
  afterAll(async () => {
    await sim.close();
    stack.dispose();
  });

  it("deploys, previews with no changes and destroys", async () => {
    const compiled = path.join(repoRoot, "bin/examples", name, "index.js");
    const config = {
      "xenserver:url": { value: sim.url },
      "xenserver:username": { value: "root" },
      "xenserver:password": { value: "example-pw", secret: true },
    };
    const [up, preview, destroy] = await stack.run(["up", "preview", "destroy"], {
      programSource: fs.readFileSync(compiled, "utf8"),
      config,
    });
    expect(up.changes.create).toBeGreaterThan(1);
    expect(Object.keys(preview.changes)).toEqual(["same"]);
    expect(destroy.changes.delete).toBe(up.changes.create);
  });
});
