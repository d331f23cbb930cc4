/** A deliberately small XAPI caller for simulator tests: raw JSON-RPC v2 (and raw XML-RPC for wire tests). */
export class RpcError extends Error {
  constructor(
    readonly code: string,
    readonly params: string[],
  ) {
    super(`${code} ${JSON.stringify(params)}`);
  }
}

export async function jsonCall(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(`${url}/jsonrpc`, {
    method: "POST",
    body: JSON.stringify({ jsonrpc: "2.0", method, params, id: 1 }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string; data: string[] } };
  if (body.error) throw new RpcError(body.error.message, body.error.data);
  return body.result;
}

export async function xmlPost(
  url: string,
  body: string,
  path = "/",
): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${url}${path}`, { method: "POST", body, headers: { "content-type": "text/xml" } });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

export function xmlCall(method: string, params: string[]): string {
  const body = params.map((p) => `<param>${p}</param>`).join("");
  return `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${body}</params></methodCall>`;
}

/** A session-bound client: `c.call("VM.get_record", vm)`, errors as RpcError. */
export class Client {
  session = "";
  constructor(readonly url: string) {}

  async login(user = "root", password = "pw", originator = "sim-tests"): Promise<this> {
    this.session = (await jsonCall(this.url, "session.login_with_password", [
      user,
      password,
      "2.21",
      originator,
    ])) as string;
    return this;
  }

  call<T = unknown>(method: string, ...params: unknown[]): Promise<T> {
    return jsonCall(this.url, method, [this.session, ...params]) as Promise<T>;
  }

  /** Runs Async.<method> and waits for the task (polling), returning the task record. */
  async task(method: string, ...params: unknown[]): Promise<Record<string, unknown>> {
    const task = await this.call<string>(`Async.${method}`, ...params);
    for (;;) {
      const rec = await this.call<Record<string, unknown>>("task.get_record", task);
      if (rec.status !== "pending") return { ...rec, $ref: task };
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/** Expects `p` to fail with `code` (and, when given, exactly `params`). */
export async function expectError(p: Promise<unknown>, code: string, params?: (string | RegExp)[]): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof RpcError)) throw e;
    expect(e.code).toBe(code);
    if (params) {
      expect(e.params).toHaveLength(params.length);
      params.forEach((want, i) =>
        want instanceof RegExp ? expect(e.params[i]).toMatch(want) : expect(e.params[i]).toBe(want),
      );
    }
    return e;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

export type Rec = Record<string, unknown>;
