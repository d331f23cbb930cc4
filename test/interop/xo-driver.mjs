// Drives a XAPI endpoint with Xen Orchestra's `xen-api` client (ESM, hence a child process) and prints
// one JSON object describing what the client saw. Usage: node xo-driver.mjs <url> <transport> <user> <password>
import { createClient } from "xen-api";

const [url, transport, user, password] = process.argv.slice(2);
const out = {};
const step = async (name, fn) => {
  try {
    out[name] = await fn();
  } catch (e) {
    out[name] = { error: { code: e.code, params: e.params, message: String(e.message) } };
  }
};
const until = async (pred, ms = 5000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = pred();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
};

const xapi = createClient({ url, auth: { user, password }, transport, allowUnauthorized: true, eventPollDelay: 200 });
const all = (type) => Object.values(xapi.objects.all).filter((o) => o.$type === type);

await step("connect", async () => {
  await xapi.connect();
  await xapi.objectsFetched;
  return {
    status: xapi.status,
    poolMaster: xapi.pool.master,
    vms: all("VM").length,
    srs: all("SR").length,
    hosts: all("host").length,
  };
});

const tpl = all("VM").find((v) => v.name_label === "Debian Bookworm 12");
await step("cacheTypes", () => ({
  memory_static_max: typeof tpl.memory_static_max,
  is_a_template: typeof tpl.is_a_template,
  hostAddress: all("host")[0].address,
  masterName: xapi.pool.$master.name_label,
}));
await step("callCount", async () => (await xapi.call("VM.get_all")).length);

let clone;
await step("asyncClone", async () => {
  clone = await xapi.callAsync("VM.clone", tpl.$ref, "xo-clone");
  const cached = await until(() => xapi.getObjectByRef(clone, undefined));
  return { ref: clone, cachedName: cached?.name_label, isTemplate: cached?.is_a_template };
});
await step("setField", async () => {
  await xapi.setField("VM", clone, "name_label", "xo-renamed");
  const o = await xapi.barrier(clone);
  return o.name_label;
});
await step("setFieldEntry", async () => {
  await xapi.setFieldEntry("VM", clone, "other_config", "xo:key", "one");
  await xapi.setFieldEntry("VM", clone, "other_config", "xo:key", "two");
  const o = await xapi.barrier(clone);
  return o.other_config["xo:key"];
});
await step("syncError", () => xapi.call("VM.get_record", "OpaqueRef:NULL"));
await step("asyncError", () => xapi.callAsync("VM.start", tpl.$ref, false, false));
await step("paramCount", () => xapi.call("VM.start", clone));
await step("destroyEvent", async () => {
  await xapi.callAsync("VM.destroy", clone);
  const gone = await until(() => xapi.getObjectByRef(clone, undefined) === undefined);
  return gone === true;
});
await step("tasksCleaned", async () => {
  const pending = all("task").filter((t) => t.status === "pending").length;
  return pending;
});
await xapi.disconnect();
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
