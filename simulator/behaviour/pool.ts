/** pool: master designation (and the simulated failover built on it). */
import { Xapi } from "../engine/xapi";
import { fail } from "../engine/errors";

export function designateNewMaster(x: Xapi, host: string): void {
  x.store.get("host", host);
  x.store.set("pool", x.poolRef(), "master", host);
}

export function register(x: Xapi): void {
  x.on("pool.designate_new_master", (xx, _ctx, [host]) => designateNewMaster(xx, host as string));
  x.on("pool.get_license_state", () => ({ edition: "xcp-ng", expiry: "never" }));
  x.on("pool.management_reconfigure", (xx, _ctx, [network]) => {
    const net = xx.store.get("network", network);
    if ((net.PIFs as string[]).length === 0) fail("PIF_NOT_PRESENT", xx.masterRef(), network as string);
  });
  x.on("pool.sync_database", () => undefined);
  // xapi_pool.ml: the certificates VM.start reads for secureboot=auto come with the host's install; setting
  // them is deprecated, and custom ones need xapi.conf's allow-custom-uefi-certs, which is off by default.
  x.on("pool.set_uefi_certificates", () =>
    fail("OPERATION_NOT_ALLOWED", "Setting UEFI certificates is deprecated, please use `set_custom_uefi_certificates`"),
  );
  x.on("pool.set_custom_uefi_certificates", () =>
    fail("OPERATION_NOT_ALLOWED", "Setting UEFI certificates is not possible when allow_custom_uefi_certs is false"),
  );
  x.on("message.create", (xx, _ctx, [name, priority, cls, objUuid, body]) =>
    createMessage(xx, name as string, priority as number, cls as string, objUuid as string, body as string),
  );
  x.on(
    "message.destroy",
    (xx, _ctx, [self]) => (xx.store.get("message", self), xx.store.destroy("message", self as string)),
  );
  x.on("message.destroy_many", (xx, _ctx, [messages]) => {
    for (const m of messages as string[]) if (xx.store.has("message", m)) xx.store.destroy("message", m);
  });
  x.on("message.get_since", (xx, _ctx, [since]) => {
    const out: Record<string, unknown> = {};
    for (const [ref, m] of xx.store.table("message")) if (String(m.timestamp) > String(since)) out[ref] = m;
    return out;
  });
  x.on("message.get", (xx, _ctx, [cls, objUuid, since]) => {
    const out: Record<string, unknown> = {};
    for (const [ref, m] of xx.store.table("message"))
      if (m.cls === cls && m.obj_uuid === objUuid && String(m.timestamp) > String(since)) out[ref] = m;
    return out;
  });
}

export function createMessage(
  x: Xapi,
  name: string,
  priority: number,
  cls: string,
  objUuid: string,
  body: string,
): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  const ts = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}Z`;
  const ref = x.store.create("message", { name, priority, cls, obj_uuid: objUuid, timestamp: ts, body });
  // xapi keeps a bounded message store; keep the newest 10,000.
  const t = x.store.table("message");
  if (t.size > 10000) x.store.destroy("message", t.keys().next().value as string);
  return ref;
}
