/** xapi-sim: an offline XenServer / XCP-ng pool speaking XAPI over XML-RPC and JSON-RPC. */
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";
import { X509Certificate } from "crypto";
import { Xapi, EngineOptions } from "./engine/xapi";
import { registerAll } from "./behaviour";
import { seedPool, SeedOptions } from "./behaviour/seed";
import { makeHandler, Connections, type BadAnswer } from "./wire/http";
import { sideChannels as vdiChannels } from "./behaviour/http-vdi";
import { auditChannels } from "./behaviour/audit-log";

const sideChannels = new Map([...vdiChannels, ...auditChannels]);
import { autosave, loadState } from "./persistence";
import { expireAllSessions, sessionStats } from "./engine/sessions";
import { Store } from "./engine/store";
import { designateNewMaster } from "./behaviour/pool";
import { refreshAllowedOperations } from "./behaviour/allowed-ops";
import { registerSeededBackends } from "./behaviour/sr";
import { restoreStorage, snapshotStorage, StorageSnapshot } from "./behaviour/storage-backend";
import { vdiData } from "./behaviour/vdi-data";
import { CallLog } from "./engine/call-log";
import { addUser, checkUser, parseUser, users as listUsers, type DirectoryUser } from "./engine/directory";
import {
  addGuestRule,
  GuestConfig,
  GuestRule,
  guestOf,
  parseGuestRule,
  restoreGuests,
  setGuest,
  snapshotGuests,
} from "./behaviour/guest-agent";

const storageExtra = (x: Xapi): Record<string, unknown> => ({
  storage: snapshotStorage(x, vdiData(x)),
  guests: snapshotGuests(x),
});

export interface SimulatorOptions {
  /** Port of the master (0 = a free port). Other hosts get further free ports. */
  port?: number;
  /** Address to bind and to report as `host.address` (default 127.0.0.1). */
  host?: string;
  /**
   * How pool members are told apart. "ports" (default): every host on `host`, each on its own port.
   * "loopback": host i on 127.0.0.(i+1), all on the same port, like a real pool where members share
   * port 443 and differ by address; clients that follow HOST_IS_SLAVE [address] by swapping the
   * hostname (Xen Orchestra's client does) then reach the master. Linux routes all of 127/8 to loopback.
   */
  hostAddressing?: "ports" | "loopback";
  /** The local superuser (default root / password): may make every call. */
  username?: string;
  password?: string;
  /**
   * Directory users with one role each (pool-admin, pool-operator, vm-power-admin, vm-admin, vm-operator,
   * read-only): as `--rbac-user name:password:role`. See sim.users.
   */
  users?: (string | DirectoryUser)[];
  /** Hosts in the pool (default 1). */
  hosts?: number;
  /** Serve HTTPS with a generated self-signed certificate. */
  tls?: boolean;
  /** Persist the DB to this file (atomic writes) and load it at start when it exists. */
  statePath?: string;
  /** Delay before SESSION_AUTHENTICATION_FAILED (xapi: 5000 ms; default 5000). */
  loginFailureDelayMs?: number;
  /** Idle time after which a session is invalid (xapi: 24 h). */
  sessionIdleTimeoutMs?: number;
  /** Sessions kept per originator (xapi: 500). */
  maxSessionsPerOriginator?: number;
  /** Delay before a started VM with guest tools reports guest metrics (default 1000 ms). */
  guestMetricsDelayMs?: number;
  /** Time a guest has to acknowledge a clean shutdown/reboot request (xenopsd: 60 s). */
  shutdownAckTimeoutMs?: number;
  /** Time a clean shutdown/reboot has to complete (xapi's domain_shutdown_total_timeout: 1200 s). */
  shutdownTimeoutMs?: number;
  /** Time a guest has to acknowledge a suspend request (xenopsd: 30 s) and to suspend (1200 s). */
  suspendAckTimeoutMs?: number;
  suspendTimeoutMs?: number;
  /** Simulated duration of lifecycle operations (default 0: one event-loop turn). */
  operationDelayMs?: number;
  /** Completed tasks are destroyed after this long (xapi: 65 min). */
  taskGcMs?: number;
  /** Period of the SR auto-scan thread (xapi: 30 s; the master's other_config:auto-scan-interval overrides it). */
  srScanIntervalMs?: number;
  /** Period of xapi's database GC (30 s), which empties CD VBDs and removes disk VBDs left by SR.forget. */
  dbGcIntervalMs?: number;
  /** xapi's event_from_delay (50 ms): event.from's sleep before gathering and cap between gathers (default 0: tests run fast). */
  eventFromDelayMs?: number;
  /** Guest rules, as `--guest`: `[NAME_GLOB:]key=value,…` or { name?, set }; they win over sim.guests.set. */
  guests?: (string | GuestRule)[];
  /** Append every call to this file as JSON lines (the records of `sim.calls`). */
  callLogPath?: string;
  /** API version reported by hosts (default 2.21, XenServer 8). */
  apiVersion?: { major: number; minor: number };
  seed?: Partial<Omit<SeedOptions, "hosts">>;
}

export interface Faults {
  /** Adds `ms` of latency to every XAPI call (0 to stop). */
  latency(ms: number): void;
  /** The next `count` calls of `method` (e.g. "VM.start") fail with `code` and `params`. */
  failNext(method: string, count: number, code: string, params?: string[]): void;
  /** The next `count` HTTP requests (any host) have their connection destroyed without an answer. */
  dropConnections(count?: number): void;
  /**
   * The next `count` RPC requests (XML-RPC or JSON-RPC, any host) get a non-XAPI answer: "html" a 200
   * text/html page, "garbage" a 200 body neither XML nor JSON, a number (400-599) that HTTP status with a short
   * HTML page (these three never run the call), "truncated" the call runs and its answer is cut in half, with a
   * Content-Length that matches what is sent. Queued after earlier respondWith/closeMidResponse faults.
   */
  respondWith(kind: "html" | "garbage" | "truncated" | number, count?: number): void;
  /** The next `count` RPC requests run, then get their headers (full Content-Length) and half the body, and the socket is destroyed. */
  closeMidResponse(count?: number): void;
  /** Faults not yet consumed: connections to drop and queued RPC answers, in order. */
  pending(): { dropConnections: number; answers: BadAnswer[] };
  /** Every live session becomes invalid (SESSION_INVALID on next use). */
  expireSessions(): void;
  /** The next Async task of `method` fails midway (progress 0.5, then INTERNAL_ERROR in error_info). */
  failTaskMidway(method: string): void;
  /**
   * Master failover: host `newMaster` (index, default 1) becomes the master, sessions are lost, and unless
   * `keepOldMasterUp` the old master stops answering (connections dropped) until `recoverHost(index)`.
   */
  failover(newMaster?: number, opts?: { keepOldMasterUp?: boolean }): void;
  /** Brings a host that failover took down back up. */
  recoverHost(index: number): void;
  /**
   * Host `host` (index) cannot reach the storage server `server` (NFS/SMB server, iSCSI target, ISO share host),
   * or can again with `unreachable` false: PBD.plug there fails as the SM driver's attach does.
   */
  storageUnreachable(host: number, server: string, unreachable?: boolean): void;
}

/** The simulated guests behind the VMs (simulator state, not XAPI's): see guest-agent.ts. */
export interface Guests {
  /** How the guest of `vm` (ref, uuid or unique name_label) behaves now, rules applied. */
  get(vm: string): GuestConfig;
  /** Changes the guest of `vm`; a running guest's agent reports the change at once. Returns get(vm). */
  set(vm: string, patch: Partial<GuestConfig>): GuestConfig;
  /** Adds a rule, as `--guest` does: every VM whose name_label matches (all without a name) behaves so. */
  rule(rule: string | GuestRule): void;
}

/** Sessions as the simulator saw them (simulator state, not XAPI's), counted across restart(). */
export interface Sessions {
  /** Sessions alive now. */
  live(): number;
  /** The most sessions alive at once since the start or the last resetPeak(). */
  peak(): number;
  /** Successful logins served since the start. */
  logins(): number;
  /** Starts the peak afresh from the sessions alive now (to measure one phase of a test). */
  resetPeak(): void;
}

/**
 * Users besides the local superuser (simulator state, as a directory server would be). Adding one turns on
 * external authentication (host.external_auth_type "AD") and adds the pool subject with its role, as an
 * administrator would with pool.enable_external_auth and subject.create; its sessions are RBAC-checked.
 */
export interface Users {
  add(user: string | DirectoryUser): void;
  /** The directory's user names. */
  list(): string[];
}

export type Calls = Pick<CallLog, "list" | "counts" | "count" | "transports" | "mark" | "clear" | "statusPolls">;

export interface Simulator {
  /** URL of the master, e.g. http://127.0.0.1:PORT */
  url: string;
  /** One URL per host, index 0 first (the initial master). */
  urls: string[];
  /** SHA-256 fingerprint of the TLS certificate, colon-separated upper-case hex. */
  fingerprint?: string;
  /** PEM of the TLS certificate (to pin it in clients). */
  certificate?: string;
  faults: Faults;
  /**
   * The call log: every XAPI call served (method, originator, session user, start, duration, error), kept
   * across restart(). counts() per wire name as called ("Async.VM.clone"), transports() per protocol,
   * list()/mark() the records, statusPolls() the getters called in a loop, clear() starts afresh.
   */
  readonly calls: Calls;
  /** How many XAPI sessions are and were alive: a client that logs in once per pool keeps peak() at 1. */
  readonly sessions: Sessions;
  /** The guest agent and guest behaviour of each VM (seeded per template, inherited by clones and copies). */
  readonly guests: Guests;
  readonly users: Users;
  /** In-process access to the object store, for out-of-band changes in tests. */
  readonly xapi: Xapi;
  readonly store: Store;
  /** Restarts xapi: sessions and tasks are lost, the DB comes back from the state file (or memory). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

function engineOptions(o: SimulatorOptions): EngineOptions {
  return {
    username: o.username ?? "root",
    password: o.password ?? "password",
    loginFailureDelayMs: o.loginFailureDelayMs ?? 5000,
    sessionIdleTimeoutMs: o.sessionIdleTimeoutMs ?? 86400_000,
    maxSessionsPerOriginator: o.maxSessionsPerOriginator ?? 500,
    guestMetricsDelayMs: o.guestMetricsDelayMs ?? 1000,
    operationDelayMs: o.operationDelayMs ?? 0,
    shutdownAckTimeoutMs: o.shutdownAckTimeoutMs ?? 60_000,
    shutdownTimeoutMs: o.shutdownTimeoutMs ?? 1_200_000,
    suspendAckTimeoutMs: o.suspendAckTimeoutMs ?? 30_000,
    suspendTimeoutMs: o.suspendTimeoutMs ?? 1_200_000,
    taskGcMs: o.taskGcMs ?? 65 * 60_000,
    eventFromDelayMs: o.eventFromDelayMs ?? 0,
    srScanIntervalMs: o.srScanIntervalMs ?? 30_000,
    dbGcIntervalMs: o.dbGcIntervalMs ?? 30_000,
    apiVersionMajor: o.apiVersion?.major ?? 2,
    apiVersionMinor: o.apiVersion?.minor ?? 21,
  };
}

async function makeCert(
  host: string,
  addresses: string[],
): Promise<{ key: string; cert: string; fingerprint: string }> {
  const selfsigned = await import("selfsigned");
  const names = [...new Set(["127.0.0.1", "localhost", host, ...addresses])];
  const altNames = names.map((n) =>
    /^[0-9.:]+$/.test(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n },
  );
  const pems = await selfsigned.generate([{ name: "commonName", value: host }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 3650 * 86400_000),
    extensions: [{ name: "subjectAltName", altNames }],
  });
  return { key: pems.private, cert: pems.cert, fingerprint: new X509Certificate(pems.cert).fingerprint256 };
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const bind = options.host ?? "127.0.0.1";
  const loopback = options.hostAddressing === "loopback";
  const addresses = Array.from({ length: Math.max(1, options.hosts ?? 1) }, (_, i) =>
    loopback ? `127.0.0.${i + 1}` : bind,
  );
  const nHosts = Math.max(1, options.hosts ?? 1);
  const tls = options.tls ? await makeCert(bind, addresses) : undefined;
  const conns: Connections = { drop: 0, answers: [] };
  const down = new Set<number>();
  let memoryState: ReturnType<Store["dump"]> | undefined;
  let memoryStorage: StorageSnapshot | undefined;
  let memoryGuests: ReturnType<typeof snapshotGuests> | undefined;
  const guestRules = (options.guests ?? []).map((r) => (typeof r === "string" ? parseGuestRule(r) : r));
  const directoryUsers = (options.users ?? []).map((u) => (typeof u === "string" ? parseUser(u) : checkUser(u)));
  const callLog = new CallLog(options.callLogPath);
  let x = await buildXapi();
  // What sim.sessions counted on the xapi instances restart() replaced.
  const before = { logins: 0, peak: 0 };
  let stopAutosave: (() => void) | undefined;
  if (options.statePath) stopAutosave = autosave(x, options.statePath, () => storageExtra(x));

  async function buildXapi(): Promise<Xapi> {
    const xx = new Xapi(engineOptions(options));
    xx.callLog = callLog;
    registerAll(xx);
    for (const r of guestRules) addGuestRule(xx, r);
    const loaded = options.statePath ? loadState(xx, options.statePath) : undefined;
    if (loaded) {
      restoreStorage(xx, vdiData(xx), loaded.storage as StorageSnapshot | undefined);
      restoreGuests(xx, loaded.guests as ReturnType<typeof snapshotGuests> | undefined);
    }
    if (!loaded && memoryState) {
      for (const [cls, ref, c, m, row] of memoryState.rows) xx.store.restore(cls, ref, row, c, m);
      xx.store.generation = memoryState.generation;
      xx.store.sortLog();
      restoreStorage(xx, vdiData(xx), memoryStorage);
      restoreGuests(xx, memoryGuests);
    } else if (!loaded) {
      seedPool(xx, { ...options.seed, hosts: nHosts }, addresses);
      refreshAllowedOperations(xx);
    }
    registerSeededBackends(xx);
    for (const u of directoryUsers) addUser(xx, u); // the directory outlives a restart; the subjects are in the DB
    return xx;
  }

  const hostRefs = () => {
    const all = [...x.store.table("host")].map(([ref]) => ref);
    return all;
  };
  const handlers: ReturnType<typeof makeHandler>[] = [];
  const servers: (http.Server | https.Server)[] = [];
  const ports: number[] = [];
  const sockets = new Set<import("net").Socket>();
  for (let i = 0; i < nHosts; i++) {
    const handler = makeHandler(x, () => hostRefs()[i], conns, sideChannels);
    const wrapped: http.RequestListener = (req, res) => {
      if (down.has(i)) {
        req.socket.destroy();
        return;
      }
      void currentHandler(i)(req, res);
    };
    handlers[i] = handler;
    const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, wrapped) : http.createServer(wrapped);
    server.keepAliveTimeout = 30_000;
    server.on("connection", (s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(i === 0 ? (options.port ?? 0) : loopback ? ports[0] : 0, addresses[i], () => resolve());
    });
    ports.push((server.address() as AddressInfo).port);
    servers.push(server);
  }
  function currentHandler(i: number) {
    return handlers[i];
  }
  const scheme = tls ? "https" : "http";
  const hostPart = (a: string) => (a.includes(":") ? `[${a}]` : a);
  const urls = ports.map((p, i) => `${scheme}://${hostPart(addresses[i])}:${p}`);
  const setAddresses = () =>
    hostRefs().forEach((ref, i) => {
      x.hostAddress.set(ref, addresses[i] ?? bind);
      x.hostUrl.set(ref, urls[i]);
    });
  setAddresses();

  /** A VM's ref from its ref, uuid or (unique) name_label. */
  function vmRef(vm: string): string {
    if (x.store.has("VM", vm)) return vm;
    const rows = [...x.store.table("VM")];
    const byUuid = rows.find(([, r]) => r.uuid === vm);
    if (byUuid) return byUuid[0];
    const byName = rows.filter(([, r]) => r.name_label === vm);
    if (byName.length === 1) return byName[0][0];
    throw new Error(
      `sim.guests: ${byName.length ? `${byName.length} VMs are named` : "no VM is"} ${JSON.stringify(vm)}`,
    );
  }

  const sim: Simulator = {
    get url() {
      const master = x.masterRef();
      const idx = hostRefs().indexOf(master);
      return urls[Math.max(0, idx)];
    },
    urls,
    fingerprint: tls?.fingerprint,
    certificate: tls?.cert,
    get xapi() {
      return x;
    },
    get store() {
      return x.store;
    },
    faults: {
      latency: (ms) => void (x.faults.latencyMs = ms),
      failNext: (method, count, code, params = []) => void x.faults.failNext.set(method, { count, code, params }),
      dropConnections: (count = 1) => void (conns.drop += count),
      respondWith(kind, count = 1) {
        const ok =
          kind === "html" ||
          kind === "garbage" ||
          kind === "truncated" ||
          (Number.isInteger(kind) && (kind as number) >= 400 && (kind as number) <= 599);
        if (!ok)
          throw new Error(
            `respondWith: unknown answer ${JSON.stringify(kind)} (html, garbage, truncated or an HTTP status 400-599)`,
          );
        for (let i = 0; i < count; i++) conns.answers.push(kind);
      },
      closeMidResponse: (count = 1) => {
        for (let i = 0; i < count; i++) conns.answers.push("close-mid-response");
      },
      pending: () => ({ dropConnections: conns.drop, answers: [...conns.answers] }),
      expireSessions: () => expireAllSessions(x),
      failTaskMidway: (method) => void x.faults.failTaskMidway.add(method),
      failover(newMaster = 1, opts = {}) {
        const refs = hostRefs();
        if (newMaster < 0 || newMaster >= refs.length)
          throw new Error(`no host ${newMaster} (pool has ${refs.length})`);
        const old = refs.indexOf(x.masterRef());
        designateNewMaster(x, refs[newMaster]);
        expireAllSessions(x);
        if (!opts.keepOldMasterUp && old !== newMaster) {
          down.add(old);
          for (const s of sockets) if (s.localPort === ports[old] && s.localAddress === addresses[old]) s.destroy();
        }
      },
      recoverHost: (i) => void down.delete(i),
      storageUnreachable(host, server, unreachable = true) {
        const ref = hostRefs()[host];
        if (!ref) throw new Error(`no host ${host} (pool has ${hostRefs().length})`);
        if (unreachable) x.faults.unreachableStorage.add(`${ref} ${server}`);
        else x.faults.unreachableStorage.delete(`${ref} ${server}`);
      },
    },
    guests: {
      get: (vm) => guestOf(x, vmRef(vm)),
      set(vm, patch) {
        const ref = vmRef(vm);
        setGuest(x, ref, patch);
        return guestOf(x, ref);
      },
      rule(r) {
        const rule = typeof r === "string" ? parseGuestRule(r) : r;
        guestRules.push(rule); // kept for the xapi that restart() builds
        addGuestRule(x, rule);
      },
    },
    users: {
      add(u) {
        const user = typeof u === "string" ? parseUser(u) : checkUser(u);
        addUser(x, user);
        directoryUsers.push(user);
      },
      list: () => listUsers(x),
    },
    calls: {
      list: (filter) => callLog.list(filter),
      counts: () => callLog.counts(),
      count: (method) => callLog.count(method),
      transports: () => callLog.transports(),
      mark: () => callLog.mark(),
      clear: () => callLog.clear(),
      statusPolls: (opts) => callLog.statusPolls(opts),
    },
    sessions: {
      live: () => x.store.table("session").size,
      peak: () => Math.max(before.peak, sessionStats(x).peak),
      logins: () => before.logins + sessionStats(x).logins,
      resetPeak() {
        before.peak = 0;
        sessionStats(x).peak = x.store.table("session").size;
      },
    },
    async restart() {
      const st = sessionStats(x);
      before.logins += st.logins;
      before.peak = Math.max(before.peak, st.peak);
      stopAutosave?.();
      memoryState = x.store.dump();
      memoryStorage = snapshotStorage(x, vdiData(x));
      memoryGuests = snapshotGuests(x);
      x.close();
      for (const s of sockets) s.destroy();
      // Let clients see their keep-alive connections close, as they would when xapi restarts.
      await new Promise((r) => setTimeout(r, 20));
      x = await buildXapi();
      setAddresses();
      for (let i = 0; i < nHosts; i++) handlers[i] = makeHandler(x, () => hostRefs()[i], conns, sideChannels);
      if (options.statePath) stopAutosave = autosave(x, options.statePath, () => storageExtra(x));
    },
    async close() {
      stopAutosave?.();
      x.close();
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      callLog.close();
    },
  };
  return sim;
}

export { Xapi } from "./engine/xapi";
export { XapiError } from "./engine/errors";
export type { Store } from "./engine/store";
export type { BadAnswer } from "./wire/http";
export type { CallRecord } from "./engine/call-log";
export type { GuestConfig, GuestRule } from "./behaviour/guest-agent";
export type { DirectoryUser } from "./engine/directory";
