// Prometheus metrics for `xen-drift watch --metrics-port`, in the text exposition format (version 0.0.4). Five
// series do not need a client library: the format is a few lines of text.
import * as http from "node:http";
import type { Finding } from "./compare";

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class Metrics {
  private findings = new Map<string, number>();
  private resyncs = new Map<string, number>();
  private lastComparison = 0;
  private lagSum = 0;
  private lagCount = 0;
  private lastLag = 0;

  constructor(private readonly stack: string) {}

  setFindings(open: Finding[]): void {
    this.findings = new Map([
      ["modified", 0],
      ["deleted", 0],
      ["unmanaged", 0],
    ]);
    for (const f of open) this.findings.set(f.kind, (this.findings.get(f.kind) ?? 0) + 1);
  }

  resync(pool: string): void {
    this.resyncs.set(pool, (this.resyncs.get(pool) ?? 0) + 1);
  }

  compared(at: Date): void {
    this.lastComparison = at.getTime() / 1000;
  }

  /** Seconds from the event's arrival to the drift being reported. */
  observeLag(seconds: number): void {
    this.lagSum += seconds;
    this.lagCount++;
    this.lastLag = seconds;
  }

  text(): string {
    const s = `stack="${esc(this.stack)}"`;
    const lines = [
      "# HELP xen_drift_findings Open drift findings by kind.",
      "# TYPE xen_drift_findings gauge",
      ...[...this.findings].map(([k, n]) => `xen_drift_findings{${s},kind="${k}"} ${n}`),
      "# HELP xen_drift_event_lag_seconds Time from an event's arrival to its drift report.",
      "# TYPE xen_drift_event_lag_seconds summary",
      `xen_drift_event_lag_seconds_sum{${s}} ${this.lagSum}`,
      `xen_drift_event_lag_seconds_count{${s}} ${this.lagCount}`,
      "# HELP xen_drift_event_lag_last_seconds The latest event's lag.",
      "# TYPE xen_drift_event_lag_last_seconds gauge",
      `xen_drift_event_lag_last_seconds{${s}} ${this.lastLag}`,
      "# HELP xen_drift_resyncs_total Full resyncs of a pool's snapshot (EVENTS_LOST, SESSION_INVALID, master change, dropped connection).",
      "# TYPE xen_drift_resyncs_total counter",
      ...[...this.resyncs].map(([p, n]) => `xen_drift_resyncs_total{${s},pool="${esc(p)}"} ${n}`),
      "# HELP xen_drift_last_comparison_timestamp_seconds When the last successful comparison ended.",
      "# TYPE xen_drift_last_comparison_timestamp_seconds gauge",
      `xen_drift_last_comparison_timestamp_seconds{${s}} ${this.lastComparison}`,
    ];
    return lines.join("\n") + "\n";
  }

  serve(port: number): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      if (req.url?.split("?")[0] !== "/metrics") {
        res.writeHead(404).end("not found; try /metrics\n");
        return;
      }
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(this.text());
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, () => resolve(server));
    });
  }
}
