/**
 * VDI side channels against stand-in servers: redirects to another member, xapi's "500 inside a 200" quirk, and what
 * a non-2xx answer reports (the task's error, or the HTTP status when the task does not fail in time).
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import type { AddressInfo } from "net";
import { XapiClient, XapiError, XapiTransportError } from "../../../provider/xapi";
import { MiniEvents } from "./mini-events";
import { encodeAnswer, parseRequest, type RpcAnswer } from "./fake-xapi";

const creds = { username: "root", password: "secret" };
const SESSION = "OpaqueRef:5e55104e-0000-4000-8000-00000000beef";

interface Server {
  url: string;
  close(): Promise<void>;
}

async function serve(onRequest: http.RequestListener): Promise<Server> {
  const server = http.createServer(onRequest);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A master answering RPC; `http` handles every other request. */
function master(
  ev: MiniEvents,
  onHttp: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void,
  seen: string[] = [],
): http.RequestListener {
  let tasks = 0;
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method !== "POST") return onHttp(req, res, url);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const rpc = parseRequest(req.url ?? "/", Buffer.concat(chunks).toString());
      seen.push(
        rpc.method.startsWith("task.") && rpc.method !== "task.create"
          ? `${rpc.method} ${String(rpc.params[1])} ${rpc.params[2] ?? ""}`.trim()
          : rpc.method,
      );
      let a: RpcAnswer;
      switch (rpc.method) {
        case "session.login_with_password":
          a = { result: SESSION };
          break;
        case "task.create": {
          const t = `OpaqueRef:task-${++tasks}`;
          ev.change("task", t, "add", { status: "pending", progress: 0, result: "", error_info: [] });
          a = { result: t };
          break;
        }
        case "event.inject":
          a = {
            result: ev.inject(String(rpc.params[1]), String(rpc.params[2]), lastSnapshot(ev, String(rpc.params[2]))),
          };
          break;
        case "event.from":
          a = { result: await ev.from(rpc.params[1] as string[], String(rpc.params[2]), Number(rpc.params[3])) };
          break;
        case "host.get_all_records":
          a = { result: {} };
          break;
        default:
          a = { result: "" };
      }
      const { body, contentType } = encodeAnswer(rpc.protocol, a);
      res.writeHead(200, { "content-type": contentType, "content-length": Buffer.byteLength(body) }).end(body);
    });
  };
}

function lastSnapshot(ev: MiniEvents, ref: string): Record<string, unknown> | undefined {
  return [...ev.changes].reverse().find((c) => c.ref === ref && c.snapshot)?.snapshot;
}

describe("VDI side channels", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it("follows a 302 to the member that can reach the SR and reads the outcome from the task", async () => {
    const ev = new MiniEvents();
    let received = Buffer.alloc(0);
    let seenQuery = "";
    const member = await serve((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      seenQuery = url.search;
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received = Buffer.concat(chunks);
        res.writeHead(200, { "task-id": url.searchParams.get("task_id") ?? "" }).end();
        const task = url.searchParams.get("task_id")!;
        ev.change("task", task, "mod", {
          status: "success",
          progress: 1,
          result: "<value>OpaqueRef:vdi</value>",
          error_info: [],
        });
      });
    });
    servers.push(member);
    const m = await serve(
      master(ev, (req, res, url) => {
        req.resume();
        res.writeHead(302, { location: `${member.url}${url.pathname}${url.search}` }).end();
      }),
    );
    servers.push(m);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xapi-vdi-")), "disk.raw");
    fs.writeFileSync(file, Buffer.from("hello disk"));
    const c = await XapiClient.connect({ url: m.url, ...creds });
    try {
      await c.importRawVdi("OpaqueRef:vdi", file, { format: "vhd" });
      expect(received.toString()).toBe("hello disk");
      expect(seenQuery).toMatch(/format=vhd/);
      expect(seenQuery).toMatch(/task_id=OpaqueRef%3Atask-1/);
    } finally {
      await c.close();
    }
  });

  it("detects an HTTP error sent inside a 200 export body", async () => {
    const ev = new MiniEvents();
    const m = await serve(
      master(ev, (_req, res) => {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.end("HTTP/1.1 500 Internal Error\r\ncontent-length: 0\r\n\r\n");
      }),
    );
    servers.push(m);
    const c = await XapiClient.connect({ url: m.url, ...creds });
    try {
      const err = (await c.exportRawVdi("OpaqueRef:vdi").catch((e) => e)) as XapiTransportError;
      expect(err).toBeInstanceOf(XapiTransportError);
      expect(err.code).toBe("XAPI_HTTP_STATUS");
      expect(err.status).toBe(500);
    } finally {
      await c.close();
    }
  });

  it("on a 401 logs in again, ends the first task and retries with a new one", async () => {
    const ev = new MiniEvents();
    const seen: string[] = [];
    let puts = 0;
    const m = await serve(
      master(
        ev,
        (req, res, url) => {
          req.resume();
          req.on("end", () => {
            if (++puts === 1) return void res.writeHead(401, { "content-length": "0" }).end();
            res.writeHead(200, { "content-length": "0" }).end();
            ev.change("task", url.searchParams.get("task_id")!, "mod", {
              status: "success",
              progress: 1,
              result: "",
              error_info: [],
            });
          });
        },
        seen,
      ),
    );
    servers.push(m);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xapi-vdi-")), "disk.raw");
    fs.writeFileSync(file, Buffer.from("hello disk"));
    const c = await XapiClient.connect({ url: m.url, ...creds });
    try {
      await c.importRawVdi("OpaqueRef:vdi", file);
      expect(puts).toBe(2);
      // The task of the refused upload is ended and destroyed; the retry ran in a task of its own.
      expect(seen).toEqual(
        expect.arrayContaining([
          "task.set_status OpaqueRef:task-1 cancelled",
          "task.destroy OpaqueRef:task-1",
          "task.destroy OpaqueRef:task-2",
        ]),
      );
      expect(seen.filter((x) => x === "session.login_with_password")).toHaveLength(2);
    } finally {
      await c.close();
    }
  });

  describe("a non-2xx answer", () => {
    let file: string;
    beforeAll(() => {
      file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xapi-vdi-")), "disk.raw");
      fs.writeFileSync(file, Buffer.from("hello disk"));
    });

    it("falls back to the HTTP status when the task is still pending after the bound, and destroys the task", async () => {
      const ev = new MiniEvents();
      const seen: string[] = [];
      const m = await serve(
        master(
          ev,
          (req, res) => {
            req.resume();
            res.writeHead(404, { "content-length": "0" }).end(); // the task stays pending
          },
          seen,
        ),
      );
      servers.push(m);
      const c = await XapiClient.connect({ url: m.url, ...creds });
      try {
        const t0 = Date.now();
        const err = (await c
          .importRawVdi("OpaqueRef:vdi", file, { taskGraceMs: 300 })
          .catch((e) => e)) as XapiTransportError;
        const took = Date.now() - t0;
        expect(err).toBeInstanceOf(XapiTransportError);
        expect(err.code).toBe("XAPI_HTTP_STATUS");
        expect(err.status).toBe(404);
        expect(`${err.message}${err.stack}`).not.toContain(SESSION);
        // It waited for the task, but no longer than the bound.
        expect(took).toBeGreaterThanOrEqual(250);
        expect(took).toBeLessThan(3000);
        expect(seen).toContain("task.destroy OpaqueRef:task-1");
        // The export falls back in the same way.
        const e2 = (await c.exportRawVdi("OpaqueRef:vdi", { taskGraceMs: 100 }).catch((e) => e)) as XapiTransportError;
        expect(e2).toBeInstanceOf(XapiTransportError);
        expect(e2.status).toBe(404);
      } finally {
        await c.close();
      }
    });

    it("falls back to the HTTP status when the task succeeded", async () => {
      const ev = new MiniEvents();
      const m = await serve(
        master(ev, (req, res, url) => {
          req.resume();
          ev.change("task", url.searchParams.get("task_id")!, "mod", {
            status: "success",
            progress: 1,
            result: "",
            error_info: [],
          });
          res.writeHead(500, { "content-length": "0" }).end();
        }),
      );
      servers.push(m);
      const c = await XapiClient.connect({ url: m.url, ...creds });
      try {
        const err = (await c
          .exportRawVdi("OpaqueRef:vdi", { taskGraceMs: 2000 })
          .catch((e) => e)) as XapiTransportError;
        expect(err).toBeInstanceOf(XapiTransportError);
        expect(err.status).toBe(500);
      } finally {
        await c.close();
      }
    });

    it("throws the task's error when xapi failed the task before answering", async () => {
      const ev = new MiniEvents();
      const m = await serve(
        master(ev, (req, res, url) => {
          req.resume();
          const task = url.searchParams.get("task_id")!;
          ev.change("task", task, "mod", {
            status: "failure",
            progress: 1,
            result: "",
            error_info: ["INTERNAL_ERROR", "Unknown format qcow"],
          });
          res.writeHead(404, { "content-length": "0" }).end();
        }),
      );
      servers.push(m);
      const c = await XapiClient.connect({ url: m.url, ...creds });
      try {
        for (const run of [() => c.importRawVdi("OpaqueRef:vdi", file), () => c.exportRawVdi("OpaqueRef:vdi")]) {
          const err = (await run().catch((e) => e)) as XapiError;
          expect(err).toBeInstanceOf(XapiError);
          expect(err.code).toBe("INTERNAL_ERROR");
          expect(err.params).toEqual(["Unknown format qcow"]);
        }
      } finally {
        await c.close();
      }
    });
  });
});
