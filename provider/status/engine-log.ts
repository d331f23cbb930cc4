/**
 * The engine's Log RPC (pulumirpc.Engine/Log), which native providers use to show a status on a resource's row.
 * The engine starts the dynamic-provider process as `node …/cmd/dynamic-provider/index.js <engine address>`, but
 * the Node SDK connects nothing there (pulumi.log goes nowhere), so this module dials the address itself, with the
 * gRPC client @pulumi/pulumi ships (proto/engine_grpc_pb) and the @grpc/grpc-js that client was built with.
 *
 * It never throws and never blocks the caller: a message that cannot be delivered resolves `false`.
 */
import { createRequire } from "node:module";
import type * as grpc from "@grpc/grpc-js";
import type { EngineClient } from "@pulumi/pulumi/proto/engine_grpc_pb";
import type * as enginePb from "@pulumi/pulumi/proto/engine_pb";

export type Severity = "debug" | "info" | "warning" | "error";

export interface LogMessage {
  urn: string;
  message: string;
  /** Shown as the resource's current status, then dropped (not kept in the update's diagnostics). */
  ephemeral: boolean;
  severity?: Severity;
}

/** Where status messages go. */
export interface LogSink {
  /** Resolves whether the engine took the message. */
  send(m: LogMessage): Promise<boolean>;
  close(): void;
}

/**
 * The engine's address when this process is the dynamic-provider plugin the engine started; undefined otherwise
 * (unit tests, xen-drift, a program's own process).
 */
export function engineAddress(argv: readonly string[] = process.argv): string | undefined {
  if (!/[\\/]cmd[\\/]dynamic-provider([\\/]index\.js)?$/.test(argv[1] ?? "")) return undefined;
  const address = argv[2];
  return address && /^[\w.\-[\]]+:\d+$/.test(address) ? address : undefined;
}

interface Rpc {
  grpc: typeof grpc;
  client: EngineClient;
  pb: typeof enginePb;
}

/**
 * A client of the engine at `address` ("127.0.0.1:PORT"), connected on the first message. Messages go one at a
 * time, in the order given (a resource's notes read in order); after close(), those still queued resolve false.
 */
export function engineLog(address: string, timeoutMs = 5000): LogSink {
  let rpc: Rpc | undefined;
  let closed = false;
  let tail: Promise<unknown> = Promise.resolve();
  const deliver = (m: LogMessage): Promise<boolean> => {
    if (closed) return Promise.resolve(false);
    try {
      rpc ??= connect(address);
    } catch {
      return Promise.resolve(false);
    }
    const { grpc: g, client, pb } = rpc;
    return new Promise((resolve) => {
      try {
        const req = new pb.LogRequest()
          .setSeverity(severityOf(pb, m.severity ?? "info"))
          .setMessage(m.message)
          .setUrn(m.urn)
          .setEphemeral(m.ephemeral);
        client.log(req, new g.Metadata(), { deadline: Date.now() + timeoutMs }, (err) => resolve(!err));
      } catch {
        resolve(false);
      }
    });
  };
  return {
    send(m) {
      const sent = tail.then(() => deliver(m));
      tail = sent;
      return sent;
    },
    close() {
      closed = true;
      rpc?.client.close();
      rpc = undefined;
    },
  };
}

function severityOf(pb: typeof enginePb, s: Severity): enginePb.LogSeverity {
  return {
    debug: pb.LogSeverity.DEBUG,
    info: pb.LogSeverity.INFO,
    warning: pb.LogSeverity.WARNING,
    error: pb.LogSeverity.ERROR,
  }[s];
}

function connect(address: string): Rpc {
  const clientFile = require.resolve("@pulumi/pulumi/proto/engine_grpc_pb");
  // @grpc/grpc-js as engine_grpc_pb resolves it: the client class and the credentials must come from one copy.
  const rpc = createRequire(clientFile)("@grpc/grpc-js") as typeof grpc;
  const services = require(clientFile) as { EngineClient: typeof EngineClient };
  const pb = require("@pulumi/pulumi/proto/engine_pb") as typeof enginePb;
  return { grpc: rpc, client: new services.EngineClient(address, rpc.credentials.createInsecure()), pb };
}
