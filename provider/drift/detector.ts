// One detector per stack: a watch (snapshot + event.from) per pool the stack's resources reach, and the
// comparison of every resource against its pool's snapshot. `check` syncs once and compares; `watch` compares
// again after each batch of events and after every resync.
import { XapiClient } from "../xapi/client";
import type { SyncReason, Watcher } from "../xapi/events";
import type { Logger } from "../xapi/tls";
import type { ProviderConfig } from "../resources/contract";
import {
  defaultProfile,
  inConfigTerms,
  resolveConnection,
  type ConnectionSettings,
} from "../resources/common/connection";
import { comparisons, compareResource, unmanaged, type Finding } from "./compare";
import { Snapshot, TrackedReads } from "./snapshot";
import type { ManagedResource } from "./state";

/** Classes the unmanaged scan reads (the managed kinds, plus what tells installer-made objects apart). */
const unmanagedScan = ["network", "PIF", "SR", "VDI", "VBD", "VM"];

export interface PoolWatch {
  /** The connection profile ("default", or a name under xenserver:pools). */
  profile: string;
  url: string;
  client: XapiClient;
  snapshot: Snapshot;
  resources: ManagedResource[];
  classes: string[];
  watcher?: Watcher;
  /** Resyncs done (EVENTS_LOST, SESSION_INVALID, a new master, a dropped connection…). */
  resyncs: number;
  /** When the last event batch or sync was applied. */
  lastEventAt?: number;
  /** Each resource's last finding (undefined: in sync), and the read keys its comparison depends on. */
  findings: Map<ManagedResource, Finding | undefined>;
  readers: Map<string, Set<ManagedResource>>;
  reads: Map<ManagedResource, Set<string>>;
  /** Read keys changed by events since the last comparison. */
  touched: Set<string>;
  /** Every resource has been compared once (until then a comparison covers them all). */
  complete: boolean;
}

export type Connect = (s: ConnectionSettings) => Promise<XapiClient>;

export interface DetectorOptions {
  stack: string;
  resources: ManagedResource[];
  config: ProviderConfig;
  includeUnmanaged?: boolean;
  logger?: Logger;
  /** Opens a client (tests: a read-only user). Default: the provider's settings for the profile. */
  connect?: Connect;
  /** Called after each change to a pool's snapshot (watch mode), with what caused it. */
  onChange?: (pool: PoolWatch, cause: { reason?: SyncReason; at: number }) => void;
}

export const defaultConnect: Connect = async (s) => {
  try {
    return await XapiClient.connect({
      url: s.url,
      username: s.username,
      password: s.password,
      tls: s.tls,
      originator: "xen-drift",
    });
  } catch (err) {
    if (err instanceof Error) err.message = inConfigTerms(err.message, s.profile);
    throw err;
  }
};

export class Detector {
  readonly pools: PoolWatch[] = [];

  constructor(private readonly opts: DetectorOptions) {}

  /** Connects to every pool the resources reach and loads the initial snapshot (event.inject, get_all_records). */
  async start(): Promise<void> {
    const byProfile = new Map<string, ManagedResource[]>();
    for (const r of this.opts.resources) {
      const p = typeof r.outputs.connection === "string" ? r.outputs.connection : defaultProfile;
      byProfile.set(p, [...(byProfile.get(p) ?? []), r]);
    }
    if (!byProfile.size && this.opts.includeUnmanaged) byProfile.set(defaultProfile, []);
    const connect = this.opts.connect ?? defaultConnect;
    for (const [profile, resources] of byProfile) {
      const settings = resolveConnection(this.opts.config, profile === defaultProfile ? undefined : profile);
      const client = await connect(settings);
      const classes = new Set(["host"]);
      for (const r of resources) for (const c of comparisons[r.kind]?.classes ?? []) classes.add(c);
      if (this.opts.includeUnmanaged) for (const c of unmanagedScan) classes.add(c);
      this.pools.push({
        profile,
        url: settings.url,
        client,
        snapshot: new Snapshot(),
        resources,
        classes: [...classes],
        resyncs: 0,
        findings: new Map(),
        readers: new Map(),
        reads: new Map(),
        touched: new Set(),
        complete: false,
      });
    }
    await Promise.all(this.pools.map((p) => this.watchPool(p)));
  }

  private watchPool(p: PoolWatch): Promise<void> {
    let pending: { at: number; reason?: SyncReason } | undefined;
    let ready = false;
    p.watcher = p.client.watch(p.classes, (ev) => {
      const at = Date.now();
      if (ev.kind === "synced") {
        if (ev.reason !== "initial") {
          p.resyncs++;
          this.opts.logger?.debug(`pool ${p.profile}: resynced (${ev.reason})`);
        }
        ready = true;
        p.lastEventAt = at;
        this.opts.onChange?.(p, { reason: ev.reason, at });
        return;
      }
      // Before the initial sync ends every resource is compared anyway: no need to note what changed.
      if (!p.snapshot.apply(ev, ready ? p.touched : undefined) || !ready) return;
      p.lastEventAt = at;
      // One comparison per batch: the events of one event.from answer arrive in the same turn.
      if (!pending) {
        pending = { at };
        setImmediate(() => {
          const c = pending!;
          pending = undefined;
          this.opts.onChange?.(p, c);
        });
      }
    });
    return p.watcher.ready;
  }

  /**
   * Compares the pool's resources (and, with includeUnmanaged, scans for unowned objects) and returns every current
   * finding. `changedOnly`: only the resources whose comparison read something an event changed since the last
   * comparison; the others keep their last finding.
   */
  async comparePool(p: PoolWatch, now = new Date(), changedOnly = false): Promise<Finding[]> {
    let todo: Iterable<ManagedResource> = p.resources;
    if (changedOnly && p.complete) {
      const hit = new Set<ManagedResource>();
      for (const k of p.touched) for (const r of p.readers.get(k) ?? []) hit.add(r);
      todo = hit;
    }
    p.touched.clear();
    for (const r of todo) {
      const reads = new TrackedReads(p.snapshot);
      p.findings.set(r, await compareResource(r, p.profile, reads, now));
      for (const k of p.reads.get(r) ?? []) p.readers.get(k)?.delete(r);
      for (const k of reads.keys) {
        let set = p.readers.get(k);
        if (!set) p.readers.set(k, (set = new Set()));
        set.add(r);
      }
      p.reads.set(r, reads.keys);
    }
    p.complete = true;
    const out = [...p.findings.values()].filter((f): f is Finding => f !== undefined);
    if (this.opts.includeUnmanaged) {
      const managed = new Set(this.opts.resources.map((r) => r.id));
      out.push(...unmanaged(p.snapshot, p.profile, managed, this.opts.stack));
    }
    return out;
  }

  async compareAll(now = new Date()): Promise<Finding[]> {
    const all = await Promise.all(this.pools.map((p) => this.comparePool(p, now)));
    return all.flat();
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.pools.map((p) => p.client.close()));
  }
}
