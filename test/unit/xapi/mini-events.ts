/** A minimal event.from source for unit tests: numbered changes, coalesced per object, long-poll wake-up. */
export interface Change {
  gen: number;
  cls: string;
  ref: string;
  op: "add" | "mod" | "del";
  snapshot?: Record<string, unknown>;
}

const tok = (n: number): string => `${String(n).padStart(20, "0")},${"0".repeat(20)}`;

export class MiniEvents {
  gen = 0;
  changes: Change[] = [];
  private wake = new Set<() => void>();

  change(cls: string, ref: string, op: Change["op"], snapshot?: Record<string, unknown>): void {
    this.changes.push({ gen: ++this.gen, cls: cls.toLowerCase(), ref, op, snapshot });
    for (const w of this.wake) w();
  }

  /** event.inject: a token just before a new mod of the object. */
  inject(cls: string, ref: string, snapshot?: Record<string, unknown>): string {
    const t = tok(this.gen);
    this.change(cls, ref, "mod", snapshot);
    return t;
  }

  current(): string {
    return tok(this.gen);
  }

  async from(classes: string[], token: string, timeoutS: number): Promise<Record<string, unknown>> {
    const since = Number(token.split(",")[0]);
    if (!/^\d{20},\d{20}$/.test(token))
      throw Object.assign(new Error("bad token"), { xapi: ["EVENT_FROM_TOKEN_PARSE_FAILURE", token] });
    const wanted = new Set(classes.map((c) => c.toLowerCase()));
    const pick = (): Change[] => {
      const last = new Map<string, Change>();
      for (const c of this.changes) if (c.gen > since && wanted.has(c.cls)) last.set(c.ref, c);
      return [...last.values()];
    };
    let found = pick();
    if (!found.length) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          this.wake.delete(done);
          resolve();
        };
        // unref: a long poll the client gave up on must not keep the test worker alive after the suite.
        const t = setTimeout(done, timeoutS * 1000).unref();
        this.wake.add(done);
      });
      found = pick();
    }
    return {
      events: found.map((c) => ({
        id: String(c.gen),
        timestamp: "0.0",
        class: c.cls,
        operation: c.op,
        ref: c.ref,
        ...(c.op === "del" ? {} : { snapshot: c.snapshot }),
      })),
      valid_ref_counts: {},
      token: tok(this.gen),
    };
  }
}
