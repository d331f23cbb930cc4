// Once per jest run of the e2e suites: make sure the engine exists, `npm pack`
// this package (as built by `npm run build`) and install the tarball into a
// throwaway Pulumi project directory, the way a user installs it.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { engineBinDir, repoRoot } from "./harness";

export default async function globalSetup(): Promise<void> {
  process.env.PULUMI_XENSERVER_ENGINE_BIN = engineBinDir();

  const packDir = fs.mkdtempSync(path.join(os.tmpdir(), "pxs-pack-"));
  const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", packDir], {
    cwd: repoRoot,
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .pop()!;
  const tarball = path.join(packDir, packed);
  const hash = crypto.createHash("sha256").update(fs.readFileSync(tarball)).digest("hex").slice(0, 16);

  // Reuse the installed project when the tarball has not changed (warm runs).
  const projectDir = path.join(os.tmpdir(), `pxs-e2e-project-${hash}`);
  if (!fs.existsSync(path.join(projectDir, ".installed"))) {
    fs.rmSync(projectDir, { recursive: true, force: true });
    fs.mkdirSync(projectDir, { recursive: true });
    const stableTarball = path.join(projectDir, "pulumi-xenserver.tgz");
    fs.copyFileSync(tarball, stableTarball);
    fs.writeFileSync(
      path.join(projectDir, "package.json"),
      JSON.stringify(
        {
          name: "pulumi-xenserver-e2e",
          private: true,
          dependencies: { "pulumi-xenserver": "file:./pulumi-xenserver.tgz" },
        },
        null,
        2,
      ),
    );
    execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: projectDir,
      stdio: "inherit",
    });
    fs.writeFileSync(path.join(projectDir, ".installed"), new Date().toISOString());
  }
  fs.copyFileSync(path.join(repoRoot, "test/e2e/driver/driver.js"), path.join(projectDir, "driver.js"));
  fs.rmSync(packDir, { recursive: true, force: true });
  process.env.PULUMI_XENSERVER_E2E_PROJECT = projectDir;
}
