// An SR's PBDs, host by host: which hosts have it attached, plugging the ones that are not, and the refusals
// XAPI would give part-way through unplugging it everywhere, found before anything is unplugged.
// Sources: xapi_sr.ml create (plug failures ignored), message_forwarding.ml check_live / forward_pbd_op /
// forward_sr_op / with_unplug_locks, xapi_pbd.ml unplug.
import type { Xapi } from "./common/connection";
import { masterHost } from "./common/lookups";
import { describeVms } from "./common/messages";
import { XapiError } from "../xapi";

interface HostState {
  name: string;
  /** host_metrics.live; the master is always live (check_live assumes so). */
  live: boolean;
  enabled: boolean;
}

interface PbdState {
  ref: string;
  uuid: string;
  host: string;
  attached: boolean;
}

/** Every host of the pool with its liveness, as message_forwarding.ml check_live sees it. */
export async function hostStates(xapi: Xapi): Promise<Map<string, HostState>> {
  const [hosts, metrics, master] = await Promise.all([
    xapi.call<Record<string, { name_label: string; metrics: string; enabled: boolean }>>("host.get_all_records"),
    xapi.call<Record<string, { live: boolean }>>("host_metrics.get_all_records"),
    masterHost(xapi),
  ]);
  return new Map(
    Object.entries(hosts).map(([ref, h]) => [
      ref,
      { name: h.name_label, live: ref === master || metrics[h.metrics]?.live === true, enabled: h.enabled },
    ]),
  );
}

export async function pbdStates(xapi: Xapi, sr: string): Promise<PbdState[]> {
  return Promise.all(
    (await xapi.call<string[]>("SR.get_PBDs", sr)).map(async (ref) => {
      const p = await xapi.call<{ uuid: string; host: string; currently_attached: boolean }>("PBD.get_record", ref);
      return { ref, uuid: p.uuid, host: p.host, attached: p.currently_attached };
    }),
  );
}

const names = (hosts: Map<string, HostState>, refs: Iterable<string>) =>
  [...new Set([...refs].map((h) => hosts.get(h)?.name ?? h))].sort().join(", ");

/** The offline hosts among `refs`, by name ("" when all are live). */
export function offlineAmong(hosts: Map<string, HostState>, refs: string[]): string {
  return names(
    hosts,
    refs.filter((h) => hosts.get(h)?.live !== true),
  );
}

function reasonOf(err: unknown): string {
  if (err instanceof XapiError) {
    const detail = err.params.filter((p) => p && !p.startsWith("OpaqueRef:")).join(" ");
    return detail ? `${err.code}: ${detail}` : err.code;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Plugs each PBD that is not attached, once (SR.create ignores its own plug failures, so this is also how they are
 * found out). A PBD on an offline host is not tried: PBD.plug would answer HOST_OFFLINE. Returns the hosts left
 * without the SR, with why.
 */
export async function plugMissing(
  xapi: Xapi,
  sr: string,
  hosts: Map<string, HostState>,
): Promise<{ host: string; reason: string }[]> {
  const missing: { host: string; reason: string }[] = [];
  for (const pbd of await pbdStates(xapi, sr)) {
    if (pbd.attached) continue;
    const host = hosts.get(pbd.host)?.name ?? pbd.host;
    if (hosts.get(pbd.host)?.live !== true) {
      missing.push({ host, reason: "the host is offline (HOST_OFFLINE)" });
      continue;
    }
    try {
      await xapi.callAsync("PBD.plug", [pbd.ref]);
    } catch (err) {
      missing.push({ host, reason: reasonOf(err) });
    }
  }
  return missing;
}

/** The error for an SR that some hosts cannot attach, saying what to do. */
export function partialAttachMessage(what: string, missing: { host: string; reason: string }[]): string {
  return (
    `${what} is not attached on ${missing.map((m) => `${m.host} (${m.reason})`).join("; ")}: VMs there cannot use it. ` +
    "Make the storage reachable from those hosts (network, export permissions, credentials) or bring them online, " +
    "then run pulumi up again; or set allowPartialAttach: true to keep the SR on the hosts that have it"
  );
}

interface VdiOps {
  name_label: string;
  current_operations: Record<string, string>;
  VBDs: string[];
}

/**
 * What would make XAPI refuse part-way through unplugging the SR on every host (and, with `destroy`, SR.destroy),
 * found before anything is unplugged. Each entry names the hosts, VMs or operation and what to do.
 */
export async function unplugRefusals(
  xapi: Xapi,
  sr: string,
  opts: { destroy: boolean; shared: boolean },
): Promise<string[]> {
  const [hosts, pbds, vdiRefs, pools] = await Promise.all([
    hostStates(xapi),
    pbdStates(xapi, sr),
    xapi.call<string[]>("SR.get_VDIs", sr),
    xapi.call<Record<string, { ha_enabled: boolean; ha_allow_overcommit: boolean }>>("pool.get_all_records"),
  ]);
  const refusals: string[] = [];
  // PBD.unplug is forwarded to the PBD's host (check_live). An unplugged PBD needs no call, so only attached ones count.
  const stuck = offlineAmong(
    hosts,
    pbds.filter((p) => p.attached).map((p) => p.host),
  );
  if (stuck)
    refusals.push(
      `it is attached on ${stuck}, which is offline, and XAPI cannot unplug it there: bring the host back ` +
        `online, or remove it from the pool if it is gone for good (xe host-forget), first (HOST_OFFLINE)`,
    );
  // SR.destroy runs on a host with a PBD of the SR (forward_sr_op): the master for a shared SR, else the SR's host.
  const destroyHost = opts.shared ? undefined : pbds[0]?.host;
  if (opts.destroy && destroyHost && !stuck && hosts.get(destroyHost)?.live !== true)
    refusals.push(
      `XAPI destroys a local SR on its own host, ${names(hosts, [destroyHost])}, which is offline: bring ` +
        `it back online first, or set destroyOnDelete: false to forget the SR (HOST_OFFLINE)`,
    );
  const vdis = await Promise.all(
    vdiRefs.map(async (v) => ({ ref: v, ...(await xapi.call<VdiOps>("VDI.get_record", v)) })),
  );
  // with_unplug_locks: no disk of the SR may have an operation running.
  for (const v of vdis) {
    const [op] = Object.entries(v.current_operations);
    if (op) refusals.push(await operationMessage(xapi, v.name_label, op[1], op[0]));
  }
  // abort_if_storage_attached_to_protected_vms, on an enabled host with the SR attached.
  const pool = Object.values(pools)[0];
  const checked = pbds.some((p) => p.attached && hosts.get(p.host)?.enabled);
  if (pool?.ha_enabled && !pool.ha_allow_overcommit && checked) {
    const vms = await haProtectedUsers(xapi, vdis);
    if (vms.length) refusals.push(haMessage(vms));
  }
  return refusals;
}

async function operationMessage(xapi: Xapi, disk: string, op: string, task: string): Promise<string> {
  const label = await xapi.call<string>("task.get_name_label", task).catch(() => undefined);
  return (
    `disk "${disk}" has a ${op} operation running${label ? ` (task "${label}")` : ""}; XAPI does not ` +
    `unplug an SR while one of its disks is busy: wait for it to finish, then delete again ` +
    `(OTHER_OPERATION_IN_PROGRESS)`
  );
}

function haMessage(vms: string[]): string {
  return (
    `HA protects VMs with disks on it: ${vms.join(", ")}; XAPI does not unplug storage an HA-protected ` +
    `VM needs: make them best-effort (ha-restart-priority) or disable HA first ` +
    `(HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED)`
  );
}

/** VMs with ha_always_run and restart priority "restart" (Helpers.is_xha_protected_r) that have a VBD on these disks. */
async function haProtectedUsers(xapi: Xapi, vdis: { VBDs: string[] }[]): Promise<string[]> {
  const users = new Set<string>();
  for (const v of vdis)
    for (const vbd of v.VBDs) {
      const vm = await xapi.call<string>("VBD.get_VM", vbd);
      const r = await xapi.call<{ ha_always_run: boolean; ha_restart_priority: string }>("VM.get_record", vm);
      if (r.ha_always_run && r.ha_restart_priority === "restart") users.add(vm);
    }
  return describeVms(xapi, [...users]);
}

/** PBD.unplug's two refusals that name only references, said with the VMs or the operation (when checks raced). */
export async function explainUnplugRefusal(xapi: Xapi, err: unknown, sr: string): Promise<unknown> {
  if (!(err instanceof XapiError)) return err;
  if (err.code === "OTHER_OPERATION_IN_PROGRESS" && err.params[0] === "VDI") {
    const disk = await xapi.call<string>("VDI.get_name_label", err.params[1]).catch(() => err.params[1]);
    return new Error(await operationMessage(xapi, disk, err.params[2] ?? "", err.params[3] ?? ""), { cause: err });
  }
  if (err.code === "HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED") {
    const vdis = await Promise.all(
      (await xapi.call<string[]>("SR.get_VDIs", sr)).map((v) => xapi.call<VdiOps>("VDI.get_record", v)),
    );
    return new Error(haMessage(await haProtectedUsers(xapi, vdis)), { cause: err });
  }
  return err;
}
