// Progress of long operations on the resource's row: each provider call's steps report to the engine with that
// call's URN, ephemeral, thinned to 10 % steps and one message a second; without a URN or an engine, to stderr.
import type { LogMessage, LogSink } from "../../../provider/status/engine-log";
import {
  progressReporter,
  reportNotice,
  reportStatus,
  useLogSink,
  withResourceStatus,
} from "../../../provider/resources/common/progress";

const urnA = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/xenserver:Vdi::a";
const urnB = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/xenserver:Vm::b";

function fakeEngine(answer = true): LogSink & { got: LogMessage[]; closed: boolean } {
  const sink = {
    got: [] as LogMessage[],
    closed: false,
    send: async (m: LogMessage) => {
      sink.got.push(m);
      return answer;
    },
    close: () => {
      sink.closed = true;
    },
  };
  return sink;
}

let stderr: string[];
let spy: jest.SpyInstance;
beforeEach(() => {
  stderr = [];
  spy = jest.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
    stderr.push(String(s));
    return true;
  });
});
afterEach(() => {
  spy.mockRestore();
  useLogSink(undefined);
  jest.useRealTimers();
});

const tick = () => new Promise((r) => setImmediate(r));

describe("progressReporter", () => {
  it("reports once per 10 % step, 100 % included, on the call's resource, ephemeral", async () => {
    jest.useFakeTimers({ doNotFake: ["setImmediate"] });
    const engine = fakeEngine();
    useLogSink(engine);
    await withResourceStatus(urnA, async () => {
      const report = progressReporter('uploading disk.img to VDI "a"');
      for (let i = 0; i <= 1000; i++) {
        report(i / 1000);
        jest.advanceTimersByTime(20); // 20 s in all: the one-a-second limit never holds a step back
      }
    });
    await tick();
    expect(engine.got.map((m) => m.message)).toEqual(
      [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((p) => `uploading disk.img to VDI "a": ${p}%`),
    );
    expect(engine.got.every((m) => m.urn === urnA && m.ephemeral)).toBe(true);
    expect(stderr).toEqual([]);
  });

  it("a fast operation says less: a step within a second of the last waits, the latest wins, and a success shows it", async () => {
    jest.useFakeTimers({ doNotFake: ["setImmediate"] });
    const engine = fakeEngine();
    useLogSink(engine);
    let report!: (f: number) => void;
    const op = withResourceStatus(urnA, async () => {
      report = progressReporter("copying");
      report(0);
      report(0.5);
      report(0.7);
      jest.advanceTimersByTime(1000);
      report(1);
    });
    await op;
    await tick();
    // 100 % came within a second of 70 %: it waited, and went out when the call succeeded (the engine keeps a row's
    // last status beside "created", so it must not stay at 70 %).
    expect(engine.got.map((m) => m.message)).toEqual(["copying: 0%", "copying: 70%", "copying: 100%"]);
  });

  it("keeps the resource of the call that made it, whatever context calls it later (XAPI's shared task watcher)", async () => {
    const engine = fakeEngine();
    useLogSink(engine);
    let later!: (f: number) => void;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const a = withResourceStatus(urnA, async () => {
      later = progressReporter("resizing");
      await held;
    });
    await withResourceStatus(urnB, async () => {
      reportStatus("starting");
      later(0.2); // called from B's context: still A's progress
    });
    release();
    await a;
    await tick();
    expect(engine.got.map((m) => [m.urn, m.message])).toEqual([
      [urnB, "starting"],
      [urnA, "resizing: 20%"],
    ]);
  });

  it("ignores NaN and clamps out-of-range fractions", async () => {
    const engine = fakeEngine();
    useLogSink(engine);
    await withResourceStatus(urnA, async () => {
      const report = progressReporter("x");
      report(Number.NaN);
      report(-1);
    });
    await tick();
    expect(engine.got.map((m) => m.message)).toEqual(["x: 0%"]);
  });
});

describe("where status goes when it cannot go to the resource", () => {
  it("no URN (state written before the sdk sent it): a stderr line naming the resource, as before", async () => {
    const engine = fakeEngine();
    useLogSink(engine);
    await withResourceStatus(undefined, async () => progressReporter("destroying")(1), "Vm 5b7c7c3e");
    expect(engine.got).toEqual([]);
    expect(stderr).toEqual(["pulumi-xenserver: Vm 5b7c7c3e: destroying: 100%\n"]);
  });

  it("no engine in this process: stderr", async () => {
    useLogSink(null);
    await withResourceStatus(urnA, async () => reportStatus("waiting for an IP address"), "Vm x");
    expect(stderr).toEqual(["pulumi-xenserver: Vm x: waiting for an IP address\n"]);
  });

  it("outside any provider call: stderr, unlabelled", () => {
    useLogSink(null);
    progressReporter('creating nfs SR "s"')(1);
    expect(stderr).toEqual(['pulumi-xenserver: creating nfs SR "s": 100%\n']);
  });

  it("an engine that refuses a message: that message and every later one go to stderr; the operation goes on", async () => {
    const engine = fakeEngine(false);
    useLogSink(engine);
    const result = await withResourceStatus(urnA, async () => {
      reportStatus("starting");
      return "created";
    });
    expect(result).toBe("created");
    await tick();
    expect(engine.got).toHaveLength(1);
    expect(engine.closed).toBe(true);
    expect(stderr).toEqual(["pulumi-xenserver: starting\n"]);
    await withResourceStatus(urnA, async () => reportStatus("again"), "Vdi a");
    expect(engine.got).toHaveLength(1);
    expect(stderr).toEqual(["pulumi-xenserver: starting\n", "pulumi-xenserver: Vdi a: again\n"]);
  });

  it("an operation's own error passes through unchanged, and a step still waiting is dropped (the row shows the error)", async () => {
    const engine = fakeEngine();
    useLogSink(engine);
    await expect(
      withResourceStatus(urnA, async () => {
        reportStatus("starting");
        reportStatus("waiting for an IP address");
        throw new Error("VM.start: NO_HOSTS_AVAILABLE");
      }),
    ).rejects.toThrow("VM.start: NO_HOSTS_AVAILABLE");
    await tick();
    expect(engine.got.map((m) => m.message)).toEqual(["starting"]);
  });
});

describe("reportNotice", () => {
  it("goes under the resource, kept (not ephemeral), with its severity, never thinned", async () => {
    const engine = fakeEngine();
    useLogSink(engine);
    await withResourceStatus(urnB, async () => {
      reportStatus("shutting down (clean, up to 120 s)");
      reportNotice("clean shutdown of VM 5b7c did not finish (XAPI_TIMEOUT); shutting it down hard", "warning");
      reportNotice("web: restarting for memory");
    });
    await tick();
    expect(engine.got).toEqual([
      { urn: urnB, message: "shutting down (clean, up to 120 s)", ephemeral: true },
      {
        urn: urnB,
        message: "clean shutdown of VM 5b7c did not finish (XAPI_TIMEOUT); shutting it down hard",
        ephemeral: false,
        severity: "warning",
      },
      { urn: urnB, message: "web: restarting for memory", ephemeral: false, severity: "info" },
    ]);
    expect(stderr).toEqual([]);
  });

  it("without a URN or an engine: the stderr line it always was", async () => {
    useLogSink(fakeEngine());
    reportNotice('bond network "jumbo": xapi\'s Bond.create sets the MTU', "warning");
    await withResourceStatus(urnA, async () => {
      useLogSink(null);
      reportNotice('network "n": MTU 9000 is recorded');
    });
    expect(stderr).toEqual([
      'pulumi-xenserver: warning: bond network "jumbo": xapi\'s Bond.create sets the MTU\n',
      'pulumi-xenserver: network "n": MTU 9000 is recorded\n',
    ]);
  });
});
