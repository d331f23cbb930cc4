// Once per jest run of the e2e suites: make sure the engine exists, `npm pack`
// this package (as built by `npm run build`) and install the tarball into a
// throwaway Pulumi project directory, the way a user installs it.
import { engineBinDir, repoRoot } from "./harness";
import { installPackedProject } from "./packed-project";

export default async function globalSetup(): Promise<void> {
  process.env.PULUMI_XENSERVER_ENGINE_BIN = engineBinDir();
  process.env.PULUMI_XENSERVER_E2E_PROJECT = installPackedProject(repoRoot);
}
