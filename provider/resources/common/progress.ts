// Progress of long operations. The dynamic-provider process's stderr reaches
// Pulumi's output (verified by test/e2e/vdi-upload.test.ts), so lines written here
// show up under `pulumi up`.

/** Returns a task-progress callback that reports every 10 % step of `what` once. */
export function progressReporter(what: string): (fraction: number) => void {
  let shown = -1;
  return (fraction) => {
    const pct = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
    if (pct >= shown + 10 || (pct === 100 && shown !== 100)) {
      shown = pct;
      process.stderr.write(`pulumi-xenserver: ${what}: ${pct}%\n`);
    }
  };
}
