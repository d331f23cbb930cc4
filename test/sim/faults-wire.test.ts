/** Non-XAPI answers injected on the wire (respondWith, closeMidResponse), seen byte for byte over raw TCP. */
import * as net from "net";
import { Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, xmlCall } from "./helpers/rpc";

interface Raw {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The connection ended cleanly (FIN) rather than being reset. */
  reset: boolean;
}

/** One POST over a fresh socket ("connection: close"); resolves with everything received until the socket closes. */
function rawPost(url: string, path: string, body: string, contentType: string): Promise<Raw> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let reset = false;
    const s = net.connect(Number(port), hostname, () => {
      const b = Buffer.from(body, "utf8");
      s.write(
        `POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: ${contentType}\r\ncontent-length: ${b.length}\r\nconnection: close\r\n\r\n`,
      );
      s.write(b);
    });
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", () => (reset = true));
    s.on("close", () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf("\r\n\r\n");
      if (end < 0) return reject(new Error(`no HTTP head in ${JSON.stringify(all.toString("latin1"))}`));
      const [statusLine, ...lines] = all.subarray(0, end).toString("latin1").split("\r\n");
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: all.subarray(end + 4), reset });
    });
  });
}

let sim: Simulator;
let c: Client;
beforeAll(async () => {
  ({ sim, c } = await startWithClient());
});
afterAll(() => sim.close());
afterEach(() => expect(sim.faults.pending()).toEqual({ dropConnections: 0, answers: [] }));

const endpoints = [
  {
    name: "JSON-RPC",
    post: () =>
      rawPost(
        sim.url,
        "/jsonrpc",
        JSON.stringify({ jsonrpc: "2.0", method: "pool.get_all", params: [c.session], id: 7 }),
        "application/json",
      ),
  },
  {
    name: "XML-RPC",
    post: () => rawPost(sim.url, "/", xmlCall("pool.get_all", [`<value>${c.session}</value>`]), "text/xml"),
  },
];

describe.each(endpoints)("injected answers over $name", ({ post }) => {
  let normal: Raw;
  beforeAll(async () => {
    normal = await post();
  });

  it("answers normally without a fault (the reference answer)", () => {
    expect(normal.status).toBe(200);
    expect(Number(normal.headers["content-length"])).toBe(normal.body.length);
    expect(normal.body.toString()).toMatch(/OpaqueRef:/);
  });

  it("respondWith('html') answers 200 text/html, then normal service resumes", async () => {
    sim.faults.respondWith("html", 2);
    expect(sim.faults.pending().answers).toEqual(["html", "html"]);
    for (let i = 0; i < 2; i++) {
      const r = await post();
      expect(r.status).toBe(200);
      expect(r.headers["content-type"]).toBe("text/html");
      expect(r.body.toString()).toMatch(/^<html>/);
      expect(Number(r.headers["content-length"])).toBe(r.body.length);
    }
    expect((await post()).body).toEqual(normal.body);
  });

  it("respondWith('garbage') answers 200 with a body that is neither XML nor JSON", async () => {
    sim.faults.respondWith("garbage");
    const r = await post();
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/octet-stream");
    expect(r.body[0]).toBe(0);
    expect(Number(r.headers["content-length"])).toBe(r.body.length);
    expect((await post()).body).toEqual(normal.body);
  });

  it("respondWith(500) answers HTTP 500 with a short page, and does not run the call", async () => {
    sim.calls.clear();
    sim.faults.respondWith(500);
    const r = await post();
    expect(r.status).toBe(500);
    expect(r.body.toString()).toContain("HTTP 500");
    expect(sim.calls.counts()["pool.get_all"]).toBeUndefined();
    expect((await post()).body).toEqual(normal.body);
  });

  it("respondWith(503) answers any HTTP error status", async () => {
    sim.faults.respondWith(503);
    expect((await post()).status).toBe(503);
  });

  it("respondWith('truncated') runs the call and sends the first half of its answer, with a matching Content-Length", async () => {
    sim.calls.clear();
    sim.faults.respondWith("truncated");
    const r = await post();
    expect(r.status).toBe(200);
    expect(r.reset).toBe(false);
    expect(Number(r.headers["content-length"])).toBe(r.body.length);
    expect(r.body).toEqual(normal.body.subarray(0, Math.floor(normal.body.length / 2)));
    expect(sim.calls.counts()["pool.get_all"]).toBe(1);
    expect((await post()).body).toEqual(normal.body);
  });

  it("closeMidResponse() sends the full Content-Length and half the body, then destroys the socket", async () => {
    sim.calls.clear();
    sim.faults.closeMidResponse();
    const r = await post();
    expect(r.status).toBe(200);
    expect(Number(r.headers["content-length"])).toBe(normal.body.length);
    expect(r.body).toEqual(normal.body.subarray(0, Math.floor(normal.body.length / 2)));
    expect(sim.calls.counts()["pool.get_all"]).toBe(1);
    expect((await post()).body).toEqual(normal.body);
  });
});

describe("the fault queue", () => {
  it("serves queued faults in order, on any RPC endpoint, and leaves GET / alone", async () => {
    sim.faults.respondWith("html");
    sim.faults.closeMidResponse();
    sim.faults.respondWith(502);
    expect(sim.faults.pending().answers).toEqual(["html", "close-mid-response", 502]);
    const welcome = await fetch(`${sim.url}/`);
    expect(welcome.status).toBe(200);
    await welcome.text();
    expect(sim.faults.pending().answers).toHaveLength(3);
    const [json, xml] = endpoints;
    expect((await json.post()).headers["content-type"]).toBe("text/html");
    const cut = await xml.post();
    expect(cut.body.length).toBeLessThan(Number(cut.headers["content-length"]));
    expect((await json.post()).status).toBe(502);
    expect((await xml.post()).status).toBe(200);
  });

  it("refuses an unknown answer kind", () => {
    expect(() => sim.faults.respondWith(200)).toThrow(/unknown answer/);
    expect(() => sim.faults.respondWith("nonsense" as never)).toThrow(/unknown answer/);
  });
});
