// "Who changed it": xapi writes an RBAC audit line for every side-effecting call (ocaml/xapi/rbac_audit.ml
// audit_line_of) and serves the master's log at GET /audit_log?since=… (audit_log.ml handler). A line is a
// debug-log header "[20261207T04:01:02.123Z| info|…|audit] " then an s-expression:
//   ('<trackid>' '<subject sid>' '<subject name>' 'ALLOWED' 'OK' 'API' 'network.set_MTU'
//    (('self' '<name>' '<uuid>' '<ref>') ('value' '1500' '' '')))
// A finding is attributed to the latest ALLOWED/OK line whose parameters name the object's UUID, at or before
// the time the change was seen. When the log cannot be read, or names no one, the answer is "unknown".
import type { XapiClient } from "../xapi/client";
import type { Actor, Finding } from "./compare";

export interface AuditSource {
  enabled: boolean;
}

export interface AuditEntry {
  at: string;
  subject: string;
  name: string;
  allowed: boolean;
  ok: boolean;
  call: string;
  /** UUIDs and refs named by the call's parameters. */
  objects: string[];
}

/** Parses an s-expression of quoted strings and lists (xapi's SExpr.string_of). */
export function parseSexpr(s: string): unknown[] | undefined {
  let i = 0;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const value = (): unknown => {
    ws();
    if (s[i] === "(") {
      i++;
      const list: unknown[] = [];
      for (;;) {
        ws();
        if (i >= s.length) throw new Error("unterminated list");
        if (s[i] === ")") {
          i++;
          return list;
        }
        list.push(value());
      }
    }
    const q = s[i];
    if (q === "'" || q === '"') {
      i++;
      let out = "";
      while (i < s.length && s[i] !== q) {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        out += s[i++];
      }
      i++;
      return out;
    }
    const start = i;
    while (i < s.length && !/[\s()]/.test(s[i])) i++;
    return s.slice(start, i);
  };
  try {
    const v = value();
    return Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function flatten(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) flatten(x, out);
  else if (typeof v === "string" && v) out.push(v);
  return out;
}

/** One audit line, or undefined when it is not one. */
export function parseAuditLine(line: string): AuditEntry | undefined {
  const m = /\[(\d{8}T\d{2}:\d{2}:\d{2}\.\d{3})Z?\|[^\]]*\|audit\]\s*(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const sx = parseSexpr(m[2]);
  if (!sx || sx.length < 7) return undefined;
  const [, subject, name, allowed, result, , call, params] = sx as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    unknown,
  ];
  const t = m[1];
  const at = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}${t.slice(8)}Z`;
  return {
    at,
    subject,
    name,
    allowed: allowed === "ALLOWED",
    ok: String(result).startsWith("OK"),
    call,
    objects: flatten(params),
  };
}

/**
 * One pool's audit log, read as it grows: each read asks only for the lines from shortly before the last one seen
 * (xapi's `since` is inclusive and its threads may write lines slightly out of time order), skips the lines already
 * read, and keeps the successful writes of the last `lookbackMs`, by the objects they name. Attributing a finding
 * then costs one small request instead of the whole last minute of log.
 */
/** The calls that make an object of each kind and name it (datamodel: the constructor's name_label, new_name). */
const creators: Record<string, string[]> = {
  Network: ["network.create"],
  Sr: ["SR.create", "SR.introduce"],
  Vdi: ["VDI.create"],
  Vm: ["VM.create", "VM.clone", "VM.copy"],
};

export class AuditTail {
  /** Successful writes in log order, and the same entries by named object (UUID or ref). */
  private readonly entries: AuditEntry[] = [];
  private readonly byObject = new Map<string, AuditEntry[]>();
  /** Lines already read that a later read may send again (within `overlapMs` of the newest). */
  private readonly recent = new Map<string, number>();
  private newest: number | undefined;

  constructor(
    private readonly client: XapiClient,
    private readonly lookbackMs = 60_000,
    private readonly overlapMs = 2_000,
  ) {}

  /** Reads the lines written since the last read; false when the log cannot be read. */
  async read(now: Date): Promise<boolean> {
    const from = Math.max(now.getTime() - this.lookbackMs, (this.newest ?? -Infinity) - this.overlapMs);
    let text: string;
    try {
      const res = await this.client.getText("/audit_log", { since: new Date(from).toISOString() });
      if (res.status !== 200) return false;
      text = res.text;
    } catch {
      return false;
    }
    for (const line of text.split("\n")) {
      if (!line || this.recent.has(line)) continue;
      const e = parseAuditLine(line);
      if (!e) continue;
      const at = Date.parse(e.at);
      this.recent.set(line, at);
      if (this.newest === undefined || at > this.newest) this.newest = at;
      if (!e.allowed || !e.ok) continue;
      this.entries.push(e);
      for (const o of new Set(e.objects)) {
        const list = this.byObject.get(o);
        if (list) list.push(e);
        else this.byObject.set(o, [e]);
      }
    }
    this.forget(now.getTime() - this.lookbackMs);
    return true;
  }

  /** The latest successful write naming the finding's object, up to `seenAt` (the clocks may differ by a second). */
  actor(f: Finding, seenAt: Date): Actor | "unknown" {
    const latest = seenAt.getTime() + 1000;
    let best: AuditEntry | undefined;
    for (const e of this.candidates(f)) {
      if (Date.parse(e.at) > latest) continue;
      if (!best || e.at >= best.at) best = e;
    }
    return best?.name ? { user: best.name, call: best.call, at: best.at } : "unknown";
  }

  /**
   * The writes that may have made the finding: those naming its object. An object made by hand is named by no line
   * (xapi logs a create's arguments, not its result): the creations of its class that gave it its name stand for it.
   */
  private candidates(f: Finding): AuditEntry[] {
    const named = this.byObject.get(f.uuid) ?? [];
    if (f.kind !== "unmanaged" || !f.name) return named;
    const makers = creators[f.type] ?? [];
    return [...named, ...(this.byObject.get(f.name) ?? []).filter((e) => makers.includes(e.call))];
  }

  private forget(before: number): void {
    let n = 0;
    while (n < this.entries.length && Date.parse(this.entries[n].at) < before) n++;
    for (const e of this.entries.splice(0, n))
      for (const o of new Set(e.objects)) {
        const list = this.byObject.get(o);
        if (!list) continue;
        const i = list.indexOf(e);
        if (i >= 0) list.splice(i, 1);
        if (!list.length) this.byObject.delete(o);
      }
    // A later read starts no earlier than this: lines before it are never sent again.
    const resent = Math.max(before, (this.newest ?? -Infinity) - this.overlapMs);
    for (const [line, at] of this.recent) if (at < resent) this.recent.delete(line);
  }
}

/** One attribution, reading the last `lookbackMs` of the log (default 1 minute); "unknown" where it cannot be read. */
export async function attribute(
  client: XapiClient,
  f: Finding,
  seenAt: Date,
  lookbackMs = 60_000,
): Promise<Actor | "unknown"> {
  const tail = new AuditTail(client, lookbackMs);
  return (await tail.read(seenAt)) ? tail.actor(f, seenAt) : "unknown";
}
