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
