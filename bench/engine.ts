// The Pulumi engine the benchmarks drive: the CLI that scripts/ensure-pulumi finds or builds.
import { execFileSync } from "node:child_process";
import * as path from "node:path";

/** The repository, from bin/bench/ where the benchmarks run once compiled. */
export const repoRoot = path.resolve(__dirname, "../..");

/** The directory holding `pulumi` and the dynamic-provider plugin (scripts/ensure-pulumi's last line). */
export function engineBinDir(): string {
  const out = execFileSync(path.join(repoRoot, "scripts/ensure-pulumi"), {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return out.trim().split("\n").pop()!;
}
