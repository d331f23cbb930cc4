// An internal resource used only by the packaging smoke test: a text file in a
// directory. It exercises every lifecycle method through the real engine without
// needing XAPI. Not exported as a product resource.
import * as fs from "node:fs";
import * as path from "node:path";
import type { CheckResult, DiffResult, ReadResult, ResourceContext } from "../resources/registry";

type Props = Record<string, unknown>;

export async function check(_olds: Props, news: Props, ctx: ResourceContext): Promise<CheckResult> {
  const failures = [];
  if (typeof news.dir !== "string" || !path.isAbsolute(news.dir)) failures.push({ property: "dir", reason: "must be an absolute directory path" });
  if (typeof news.name !== "string" || !/^[\w.-]+$/.test(news.name)) failures.push({ property: "name", reason: "must be a file name made of letters, digits, '.', '_' or '-'" });
  if (typeof news.content !== "string") failures.push({ property: "content", reason: "must be a string" });
  // Reading a stack config value proves configure() reached this process.
  const tag = ctx.config.get("xenserver:smokeTag") ?? null;
  return failures.length ? { failures } : { inputs: { dir: news.dir, name: news.name, content: news.content, tag } };
}

export async function diff(_id: string, olds: Props, news: Props): Promise<DiffResult> {
  const replaces = ["dir", "name"].filter((k) => olds[k] !== news[k]);
  const changes = replaces.length > 0 || olds.content !== news.content || olds.tag !== news.tag;
  return { changes, replaces, deleteBeforeReplace: false };
}

function outputs(inputs: Props) {
  const file = path.join(inputs.dir as string, inputs.name as string);
  return { dir: inputs.dir, name: inputs.name, content: inputs.content, tag: inputs.tag ?? null, path: file, bytes: Buffer.byteLength(inputs.content as string) };
}

export async function create(inputs: Props): Promise<{ id: string; outs: Props }> {
  const outs = outputs(inputs);
  fs.writeFileSync(outs.path, inputs.content as string, { flag: "wx" });
  return { id: outs.path, outs };
}

export async function read(id: string, props: Props): Promise<ReadResult> {
  if (!fs.existsSync(id)) return { id: "" };
  const content = fs.readFileSync(id, "utf8");
  const inputs = { dir: path.dirname(id), name: path.basename(id), content, tag: props.tag ?? null };
  return { id, props: outputs(inputs), inputs };
}

export async function update(_id: string, _olds: Props, news: Props): Promise<{ outs: Props }> {
  const outs = outputs(news);
  fs.writeFileSync(outs.path, news.content as string);
  return { outs };
}

export async function delete_(id: string): Promise<void> {
  fs.rmSync(id, { force: true });
}
export { delete_ as delete };
