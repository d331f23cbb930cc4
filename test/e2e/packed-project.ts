// A throwaway Pulumi project directory where this package (as built by `npm run build`) is installed from the
// tarball `npm pack` makes, the way a user installs it. The e2e suites (global-setup.ts) and bench:scale run
// their programs there.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Packs the package at `repoRoot`, installs it (reused while the tarball is unchanged) and returns the directory. */
export function installPackedProject(repoRoot: string): string {
  const packDir = fs.mkdtempSync(path.join(os.tmpdir(), "pxs-pack-"));
  try {
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
        stdio: ["ignore", "inherit", "inherit"],
      });
      fs.writeFileSync(path.join(projectDir, ".installed"), new Date().toISOString());
    }
    fs.copyFileSync(path.join(repoRoot, "test/e2e/driver/driver.js"), path.join(projectDir, "driver.js"));
    return projectDir;
  } finally {
    fs.rmSync(packDir, { recursive: true, force: true });
  }
}
