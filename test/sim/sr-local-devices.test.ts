/**
 * Issue 9 item 9: SR.create of a local block-device SR (ext, lvm) checks its devices as the sm drivers do.
 * xapi-project/sm: libs/sm/drivers/LVHDSR.py and EXTSR.py `create` (decorated by SR.py `deviceCheck`:
 * ConfigDeviceMissing), then lvutil.py `createVG`: a device that is the root disk or its first two partitions
 * (util.getrootdev) raises Rootdev, one that does not exist (os.path.exists) raises InvalidDev. Codes from
 * libs/sm/core/XE_SR_ERRORCODES.xml: InvalidDev 19, ConfigDeviceMissing 90, Rootdev 105. The simulated hosts'
 * disks are a simulator convention (simulator/README.md, "The seeded pool").
 */
import { Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { Client, expectError } from "./helpers/rpc";

let sim: Simulator;
let c: Client;
let host: string;
beforeAll(async () => {
  ({ sim, c } = await startWithClient({ hosts: 1 }));
  [host] = await c.call<string[]>("host.get_all");
});
afterAll(() => sim.close());

const create = (type: string, device?: string) =>
  c.call<string>("SR.create", host, device ? { device } : {}, 0, `${type} on ${device}`, "", type, "user", false, {});
const srCount = async () => (await c.call<string[]>("SR.get_all")).length;

describe("SR.create checks local block devices as the sm drivers do", () => {
  it.each(["ext", "lvm"])(
    "%s on a device the host does not have fails with SR_BACKEND_FAILURE_19 (InvalidDev)",
    async (type) => {
      const before = await srCount();
      await expectError(create(type, "/dev/nonexistent"), "SR_BACKEND_FAILURE_19", [
        "",
        "No such device [opterr=Device /dev/nonexistent does not exist]",
        "",
      ]);
      expect(await srCount()).toBe(before); // Xapi_sr.create removes the SR record when the driver fails
    },
  );

  it.each(["ext", "lvm"])("%s on the root disk fails with SR_BACKEND_FAILURE_105 (Rootdev)", async (type) => {
    await expectError(create(type, "/dev/sda1"), "SR_BACKEND_FAILURE_105", [
      "",
      "Root system device, cannot be used for VM storage [opterr=Device /dev/sda1 contains core system files, please use another device]",
      "",
    ]);
  });

  it("without a device fails with SR_BACKEND_FAILURE_90 (ConfigDeviceMissing)", async () => {
    await expectError(create("ext"), "SR_BACKEND_FAILURE_90", ["", "The request is missing the device parameter", ""]);
  });

  it("a data disk the host has is formatted", async () => {
    const sr = await create("ext", "/dev/sdk");
    expect(await c.call("SR.get_type", sr)).toBe("ext");
  });
});
