/** `--state FILE`: the DB survives restarts. Writes are atomic (temp file + rename) and debounced. */
import * as fs from "fs";
import * as path from "path";
import { Row } from "./engine/store";
import { Xapi } from "./engine/xapi";

interface StateFile {
  format: "xapi-sim/1";
  generation: number;
  rows: [string, string, number, number, Row][];
  extra: Record<string, unknown>;
}

export function saveState(x: Xapi, file: string, extra: Record<string, unknown>): void {
  const dump = x.store.dump();
  const state: StateFile = { format: "xapi-sim/1", generation: dump.generation, rows: dump.rows, extra };
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(state));
  fs.renameSync(tmp, file);
}

export function loadState(x: Xapi, file: string): Record<string, unknown> | undefined {
  if (!fs.existsSync(file)) return undefined;
  const state = JSON.parse(fs.readFileSync(file, "utf8")) as StateFile;
  if (state.format !== "xapi-sim/1") throw new Error(`${file}: not an xapi-sim state file`);
  for (const [cls, ref, created, modified, row] of state.rows) x.store.restore(cls, ref, row, created, modified);
  x.store.generation = state.generation;
  x.store.sortLog();
  return state.extra;
}

/** Saves after a change, at most every `ms` — or every twice the last write's duration, for big databases. */
export function autosave(x: Xapi, file: string, extra: () => Record<string, unknown>, ms = 50): () => void {
  let pending = false;
  let lastWriteMs = 0;
  const off = x.store.onChange(() => {
    if (pending) return;
    pending = true;
    x.later(Math.max(ms, 2 * lastWriteMs), () => {
      pending = false;
      const t0 = Date.now();
      saveState(x, file, extra());
      lastWriteMs = Date.now() - t0;
    });
  });
  return () => {
    off();
    saveState(x, file, extra());
  };
}
