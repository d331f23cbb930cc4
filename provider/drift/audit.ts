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

/** xapi's log timestamp form for `since` (audit_log.ml log_timestamp_of_iso8601 accepts ISO 8601 too). */
function since(t: Date): string {
  return t.toISOString();
}

/**
 * The latest successful write that names the finding's object, up to `seenAt`: who made it. `lookbackMs` bounds
 * the log read (default 1 minute: xapi sends the whole log from `since`).
 */
export async function attribute(
  client: XapiClient,
  f: Finding,
  seenAt: Date,
  lookbackMs = 60_000,
): Promise<Actor | "unknown"> {
  let text: string;
  try {
    const res = await client.getText("/audit_log", { since: since(new Date(seenAt.getTime() - lookbackMs)) });
    if (res.status !== 200) return "unknown";
    text = res.text;
  } catch {
    return "unknown";
  }
  const latest = seenAt.getTime() + 1000; // the log's clock and ours may differ slightly
  let best: AuditEntry | undefined;
  for (const line of text.split("\n")) {
    const e = parseAuditLine(line);
    if (!e || !e.allowed || !e.ok || !e.objects.includes(f.uuid)) continue;
    if (Date.parse(e.at) > latest) continue;
    if (!best || e.at >= best.at) best = e;
  }
  if (!best || !best.name) return "unknown";
  return { user: best.name, call: best.call, at: best.at };
}
