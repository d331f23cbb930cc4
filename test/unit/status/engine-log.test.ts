// The engine's Log RPC as the dynamic-provider process reaches it: the address from the process's arguments, the
// request's fields as the engine reads them (pulumi/pulumi pkg/host/host_server.go Log: Ephemeral → LogStatus with
// the URN), and no error, no hang when the engine is not there.
import * as net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { EngineService } from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/engine_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { engineAddress, engineLog } from "../../../provider/status/engine-log";

describe("engineAddress", () => {
  const script = "/home/u/proj/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js";
  it("is the first argument of the dynamic-provider process the engine started", () => {
    expect(engineAddress(["/usr/bin/node", script, "127.0.0.1:40123"])).toBe("127.0.0.1:40123");
    expect(engineAddress(["/usr/bin/node", script.replace("/index.js", ""), "localhost:5"])).toBe("localhost:5");
  });
  it("is undefined in any other process, or without a host:port argument", () => {
    expect(engineAddress(["/usr/bin/node", "/repo/node_modules/jest/bin/jest.js", "127.0.0.1:40123"])).toBeUndefined();
    expect(engineAddress(["/usr/bin/node", script])).toBeUndefined();
    expect(engineAddress(["/usr/bin/node", script, "--inspect"])).toBeUndefined();
  });
});

describe("engineLog", () => {
  let server: grpc.Server;
  let address: string;
  const got: pb.LogRequest.AsObject[] = [];

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(EngineService, {
      log: (call: grpc.ServerUnaryCall<pb.LogRequest, Empty>, cb: grpc.sendUnaryData<Empty>) => {
        got.push(call.request.toObject());
        cb(null, new Empty());
      },
    });
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
    address = `127.0.0.1:${port}`;
  });
  afterAll(() => server.forceShutdown());

  it("sends the URN, the message, the severity and the ephemeral flag", async () => {
    const log = engineLog(address);
    const urn = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/xenserver:Vdi::golden";
    await expect(log.send({ urn, message: "uploading: 40%", ephemeral: true })).resolves.toBe(true);
    await expect(log.send({ urn, message: "done", ephemeral: false, severity: "debug" })).resolves.toBe(true);
    log.close();
    expect(got).toEqual([
      { urn, message: "uploading: 40%", ephemeral: true, severity: pb.LogSeverity.INFO, streamid: 0 },
      { urn, message: "done", ephemeral: false, severity: pb.LogSeverity.DEBUG, streamid: 0 },
    ]);
  });

  it("delivers in the order given, and resolves false for what is still queued once closed", async () => {
    got.length = 0;
    const log = engineLog(address);
    const urn = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/xenserver:Vm::web";
    const sent = Array.from({ length: 20 }, (_, i) => log.send({ urn, message: `note ${i}`, ephemeral: false }));
    await expect(Promise.all(sent)).resolves.toEqual(Array(20).fill(true));
    expect(got.map((r) => r.message)).toEqual(Array.from({ length: 20 }, (_, i) => `note ${i}`));
    const first = log.send({ urn, message: "in flight", ephemeral: true });
    const queued = log.send({ urn, message: "queued", ephemeral: true });
    log.close();
    await first;
    await expect(queued).resolves.toBe(false);
  });

  it("resolves false, within its deadline, when nothing answers at the address", async () => {
    // A port that was free a moment ago: nothing listens there.
    const free = await new Promise<number>((res) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => res(p));
      });
    });
    const log = engineLog(`127.0.0.1:${free}`, 500);
    const started = Date.now();
    await expect(log.send({ urn: "urn:pulumi:a::b::c::d", message: "x", ephemeral: true })).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(3000);
    log.close();
  });

  it("resolves false for an address grpc cannot even parse", async () => {
    const log = engineLog("not an address");
    await expect(log.send({ urn: "urn:pulumi:a::b::c::d", message: "x", ephemeral: true })).resolves.toBe(false);
    log.close();
  });
});
