/**
 * Where the master forwards a call, and the liveness check on the way (message_forwarding.ml do_op_on,
 * check_live, choose_pbds_for_sr). The simulator runs every call on the master, which is always live.
 */
import { fail } from "../engine/errors";
import { Xapi } from "../engine/xapi";

/** Xapi_vm_helpers.is_host_live: host_metrics.live (a host without metrics is not live). */
export function isLive(x: Xapi, host: string): boolean {
  if (host === x.masterRef()) return true;
  const h = x.store.tryGet("host", host);
  const m = h && x.store.tryGet("host_metrics", h.metrics);
  return !!m && m.live === true;
}

/** message_forwarding.ml check_live: HOST_OFFLINE [host] for a call forwarded to a host that is not live. */
export function checkLive(x: Xapi, host: string): void {
  if (!isLive(x, host)) fail("HOST_OFFLINE", host);
}

/**
 * message_forwarding.ml choose_pbds_for_sr: the PBDs an SR operation may run through (plugged ones unless
 * `considerUnplugged`, as SR.destroy and SR.forget ask); for a shared SR the master's first, and none at all
 * when the master has no such PBD.
 */
export function pbdsForSr(x: Xapi, sr: string, considerUnplugged: boolean): string[] {
  const s = x.store;
  const row = s.get("SR", sr);
  const pbds = (row.PBDs as string[]).filter((p) => considerUnplugged || s.get("PBD", p).currently_attached === true);
  if (!row.shared) return pbds;
  const master = x.masterRef();
  const mine = pbds.filter((p) => s.get("PBD", p).host === master);
  return mine.length ? [...mine, ...pbds.filter((p) => !mine.includes(p))] : [];
}

/**
 * message_forwarding.ml forward_sr_op: the host of the SR's first candidate PBD runs the call, so it must be
 * live. Without a candidate xapi answers SR_NO_PBDS; callers keep their own check for that case.
 */
export function checkSrHostLive(x: Xapi, sr: string, considerUnplugged = false): void {
  const [pbd] = pbdsForSr(x, sr, considerUnplugged);
  if (pbd) checkLive(x, x.store.get("PBD", pbd).host as string);
}
