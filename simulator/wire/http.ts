/** The HTTP front door of one host: XML-RPC on every POST path but /jsonrpc, JSON-RPC there, side channels. */
import { IncomingMessage, ServerResponse } from "http";
import { dispatch, Outcome } from "../engine/dispatch";
import { Xapi } from "../engine/xapi";
import { parseJsonCall, jsonFailure, jsonSuccess } from "./jsonrpc";
import { bareResponse, encodeValue, failureResponse, parseCall, ParseError, successResponse } from "./xmlrpc";

export type SideChannel = (
  x: Xapi,
  host: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) => Promise<void> | void;

/**
 * A non-XAPI answer to one RPC request (fault injection): "html" a 200 text/html page (a proxy or captive
 * portal), "garbage" a 200 body that is neither XML nor JSON, a number an HTTP error status with a short page,
 * "truncated" the real answer cut in half (Content-Length says so: the document itself is incomplete),
 * "close-mid-response" the real headers (full Content-Length) and half the body, then the socket is destroyed.
 */
export type BadAnswer = "html" | "garbage" | "truncated" | "close-mid-response" | number;

export interface Connections {
  /** Number of upcoming requests whose connection is dropped without an answer (fault injection). */
  drop: number;
  /** Answers for the upcoming RPC requests (XML-RPC or JSON-RPC, any host), first in first out. */
  answers: BadAnswer[];
}

/** The real answer is still computed (the call runs) for these; the others never reach dispatch. */
const cutsRealAnswer = (a: BadAnswer | undefined): a is "truncated" | "close-mid-response" =>
  a === "truncated" || a === "close-mid-response";

const CORS = { "access-control-allow-origin": "*", "access-control-allow-headers": "X-Requested-With" };

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  cut?: "truncated" | "close-mid-response",
): void {
  const buf = Buffer.from(body, "utf8");
  if (!cut) {
    res.writeHead(status, { "content-type": contentType, "content-length": String(buf.length), ...CORS });
    res.end(buf);
    return;
  }
  const half = buf.subarray(0, Math.floor(buf.length / 2));
  if (cut === "truncated") {
    res.writeHead(status, { "content-type": contentType, "content-length": String(half.length), ...CORS });
    res.end(half);
    return;
  }
  // Full Content-Length, half the body, then the connection goes away (once the bytes are on the wire).
  res.writeHead(status, { "content-type": contentType, "content-length": String(buf.length), ...CORS });
  res.write(half, () => res.socket?.destroy());
}

/** Sends an injected answer that does not come from dispatch. */
function sendBad(res: ServerResponse, answer: "html" | "garbage" | number): void {
  if (answer === "html") {
    send(
      res,
      200,
      "text/html",
      "<html><head><title>Sign in</title></head><body><h1>Network access requires sign-in</h1></body></html>",
    );
  } else if (answer === "garbage") {
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "16", ...CORS });
    res.end(Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0x67, 0x61, 0x72, 0x62, 0x61, 0x67, 0x65, 0x0d, 0x0a, 0x00]));
  } else {
    send(res, answer, "text/html", `<html><body><h1>HTTP ${answer}</h1>xapi-sim: injected fault</body></html>`);
  }
}

/** The HTML page of Http_svr's response_internal_error around `detail` (inserted as given). */
export function internalErrorPage(detail: string): string {
  return (
    "<html><body><h1>HTTP 500 internal server error</h1>An unexpected error occurred; please wait a while and try" +
    " again. If the problem persists, please contact your support representative.<h1> Additional information </h1>" +
    `${detail}</body></html>`
  );
}

function internalError(res: ServerResponse, detail: string): void {
  send(
    res,
    500,
    "text/html",
    internalErrorPage(detail.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")),
  );
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The body as text, and whether it held bytes that are not UTF-8 (decoded as U+FFFD). */
function readBody(req: IncomingMessage): Promise<{ text: string; badUtf8: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const buf = Buffer.concat(chunks);
      try {
        resolve({ text: strictUtf8.decode(buf), badUtf8: false });
      } catch {
        resolve({ text: buf.toString("utf8"), badUtf8: true });
      }
    });
    req.on("error", reject);
  });
}

export function makeHandler(x: Xapi, host: () => string, conns: Connections, side: Map<string, SideChannel>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (conns.drop > 0) {
      conns.drop--;
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? "/", "http://sim");
    try {
      if (req.method === "OPTIONS") {
        res.writeHead(200, { ...CORS, "content-length": "0" });
        res.end();
        return;
      }
      const channel = side.get(`${req.method} ${url.pathname}`);
      if (channel) return await channel(x, host(), req, res, url);
      if (req.method === "GET" && url.pathname === "/") {
        // xapi serves its welcome page from /opt/xensource/www on GET /.
        send(
          res,
          200,
          "text/html",
          "<html><head><title>XCP-ng</title></head><body><h1>XCP-ng (xapi-sim)</h1></body></html>",
        );
        return;
      }
      if (req.method !== "POST") {
        send(res, 404, "text/html", "<html><body><h1>HTTP 404 not found</h1></body></html>");
        return;
      }
      const body = await readBody(req);
      const answer = conns.answers.shift();
      if (answer !== undefined && !cutsRealAnswer(answer)) return sendBad(res, answer);
      const cut = cutsRealAnswer(answer) ? answer : undefined;
      if (url.pathname.startsWith("/jsonrpc")) await serveJson(x, host(), body.text, res, body.badUtf8, cut);
      else await serveXml(x, host(), body.text, res, body.badUtf8, cut);
    } catch (e) {
      if (!res.headersSent) internalError(res, String((e as Error).message));
      else res.destroy();
    }
  };
}

type Cut = "truncated" | "close-mid-response" | undefined;

async function serveXml(
  x: Xapi,
  host: string,
  body: string,
  res: ServerResponse,
  badUtf8: boolean,
  cut: Cut,
): Promise<void> {
  let call;
  try {
    call = parseCall(body);
  } catch (e) {
    if (e instanceof ParseError) return internalError(res, `Xmlrpc.Parse_error(${JSON.stringify(e.message)})`);
    throw e;
  }
  const out: Outcome = await dispatch(x, call.method, call.params, host, badUtf8, "xmlrpc");
  if (x.closed) return void res.destroy();
  if ("bare" in out)
    return send(
      res,
      200,
      "text/xml",
      bareResponse(encodeValue(out.value, { kind: "set", of: { kind: "string" } })),
      cut,
    );
  if (out.ok) return send(res, 200, "text/xml", successResponse(encodeValue(out.value, out.type)), cut);
  send(res, 200, "text/xml", failureResponse(out.error.description), cut);
}

async function serveJson(
  x: Xapi,
  host: string,
  body: string,
  res: ServerResponse,
  badUtf8: boolean,
  cut: Cut,
): Promise<void> {
  let call;
  try {
    call = parseJsonCall(body);
  } catch (e) {
    if (e instanceof ParseError) return internalError(res, e.message);
    throw e;
  }
  const out: Outcome = await dispatch(x, call.method, call.params, host, badUtf8, "jsonrpc");
  if (x.closed) return void res.destroy();
  if ("bare" in out) {
    // system.listMethods skips the v2 translation (docs/xapi-semantics.md §1.4).
    const payload = call.v2
      ? { jsonrpc: "2.0", result: out.value, id: call.id }
      : { result: out.value, error: null, id: call.id };
    return send(res, 200, "application/json", JSON.stringify(payload), cut);
  }
  if (out.ok) return send(res, 200, "application/json", jsonSuccess(call, out.value, out.type), cut);
  send(res, 200, "application/json", jsonFailure(call, out.error.description), cut);
}
