// Issue 14: a refresh with no drift reports no inputs (provider/runtime.ts storedAlready), so the engine keeps the
// stored ones (pkg/resource/deploy/step.go RefreshStep.Apply retains the current inputs when Read returns none) and
// neither the dynamic-provider host nor the engine converts a second bag per resource. A drifted field, and a
// get() (no stored inputs), still report them. Through dispatch, as the host calls the provider.
import { configure, dispatch } from "../../../provider/runtime";
import { resourceUrnKey } from "../../../provider/resources/common/progress";
import { startPool, stopPool, type SimulatedPool } from "./pool-fixture";

let lab: SimulatedPool | undefined;
let sr: string;
let net: string;

beforeAll(async () => {
  lab = await startPool("refresh-inputs-pw");
  configure(lab.ctx.config);
  const srs = await lab.xapi.call<Record<string, { uuid: string; type: string }>>("SR.get_all_records");
  sr = Object.values(srs).find((s) => s.type === "lvm")!.uuid;
  const nets = await lab.xapi.call<Record<string, { uuid: string; name_label: string }>>("network.get_all_records");
  net = Object.values(nets).find((n) => n.name_label === "Pool-wide network associated with eth0")!.uuid;
});
afterAll(() => stopPool(lab));

type Bag = Record<string, unknown>;
interface Read {
  id: string;
  props: Bag;
  inputs?: Bag;
}

/** check + create through dispatch, with the URN the sdk passes; returns the id and the stored outputs. */
async function create(kind: string, news: Bag): Promise<{ id: string; outs: Bag }> {
  const urn = `urn:pulumi:dev::lab::pulumi-nodejs:dynamic/xenserver:${kind}::${String(news.name)}`;
  const checked = (await dispatch(kind, "check", {}, { ...news, [resourceUrnKey]: urn })) as { inputs: Bag };
  return (await dispatch(kind, "create", checked.inputs)) as { id: string; outs: Bag };
}

/** The engine stores null and absent alike. */
const withoutNulls = (bag: Bag): Bag => Object.fromEntries(Object.entries(bag).filter(([, v]) => v !== null));

const programs: Array<[string, () => Bag, string]> = [
  ["Vdi", () => ({ name: "ri-disk", sr, size: "16MiB", otherConfig: { team: "a" }, tags: ["x"] }), "VDI"],
  ["Network", () => ({ name: "ri-net", mtu: 9000 }), "network"],
  [
    "Vm",
    () => ({
      name: "ri-vm",
      template: "Debian Bookworm 12",
      powerState: "Halted",
      networkInterfaces: [{ network: net }],
    }),
    "VM",
  ],
];

describe.each(programs)("%s: a refresh's read", (kind, program, cls) => {
  let id: string;
  let outs: Bag;
  beforeAll(async () => ({ id, outs } = await create(kind, program())));
  afterAll(() => dispatch(kind, "delete", id, outs));

  it("with no drift: the same outputs, and no inputs (the engine keeps the stored ones), except a Vm's", async () => {
    const r = (await dispatch(kind, "read", id, outs)) as Read;
    expect(r.id).toBe(id);
    expect(withoutNulls(r.props)).toEqual(withoutNulls(outs)); // a Vm's read says cloudInit: null; create leaves it out
    // A Vm's outputs describe its disks and NICs more fully than its inputs do (live.ts liveInputs): its inputs
    // cannot be told from its outputs, so they are always reported.
    if (kind === "Vm") expect(r.inputs).toMatchObject({ name: program().name, powerState: "Halted" });
    else expect(r).not.toHaveProperty("inputs");
  });

  it("after a change outside Pulumi: the drifted inputs, as before", async () => {
    const ref = await lab!.xapi.call<string>(`${cls}.get_by_uuid`, id);
    await lab!.xapi.call(`${cls}.set_name_label`, ref, "renamed outside");
    try {
      const r = (await dispatch(kind, "read", id, outs)) as Read;
      expect(r.props.name).toBe("renamed outside");
      expect(r.inputs).toMatchObject({ name: "renamed outside", [resourceUrnKey]: outs[resourceUrnKey] });
    } finally {
      await lab!.xapi.call(`${cls}.set_name_label`, ref, program().name);
    }
  });

  it("for a get() (referenceOnly, no stored inputs): the inputs", async () => {
    const r = (await dispatch(kind, "read", id, { referenceOnly: true })) as Read;
    expect(r.id).toBe(id);
    expect(r.inputs).toMatchObject({ name: program().name });
  });
});
