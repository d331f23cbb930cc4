/**
 * What lives on the simulated storage, independently of xapi's DB: SR.forget keeps it,
 * SR.introduce + PBD.plug + SR.scan find it again, SR.probe lists it.
 */
import { Row } from "../engine/store";
import { Xapi } from "../engine/xapi";

export interface Backend {
  type: string;
  location: string;
  srUuid: string;
  size: number;
  /** VDI records as they were when the SR was forgotten (by VDI uuid). */
  vdis: Map<string, Row>;
}

const backends = new WeakMap<Xapi, Map<string, Backend>>();

export function backendsOf(x: Xapi): Map<string, Backend> {
  let m = backends.get(x);
  if (!m) backends.set(x, (m = new Map()));
  return m;
}

export function backendKey(type: string, location: string, srUuid: string): string {
  return `${type}|${location}|${srUuid}`;
}

export function findBackend(x: Xapi, type: string, location: string): Backend[] {
  return [...backendsOf(x).values()].filter((b) => b.type === type && b.location === location);
}

/** What persistence stores besides the DB: the storage backends and written disk contents. */
export interface StorageSnapshot {
  backends: (Omit<Backend, "vdis"> & { vdis: [string, Row][] })[];
  data: [string, string][];
}

export function snapshotStorage(x: Xapi, data: Map<string, Buffer>): StorageSnapshot {
  return {
    backends: [...backendsOf(x).values()].map((b) => ({ ...b, vdis: [...b.vdis] })),
    data: [...data].map(([ref, buf]) => [ref, buf.toString("base64")]),
  };
}

export function restoreStorage(x: Xapi, data: Map<string, Buffer>, snap: StorageSnapshot | undefined): void {
  if (!snap) return;
  for (const b of snap.backends)
    backendsOf(x).set(backendKey(b.type, b.location, b.srUuid), { ...b, vdis: new Map(b.vdis) });
  for (const [ref, b64] of snap.data) data.set(ref, Buffer.from(b64, "base64"));
}
