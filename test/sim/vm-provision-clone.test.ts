/**
 * VM.provision, VM.clone and VM.copy on their failure paths, as xapi-project/xen-api ocaml/xapi/ has them:
 * xapi_vm.ml provision / clone / copy, xapi_templates.ml create_disk / disks_of_xml, xapi_vm_clone.ml
 * clone / safe_clone_disks, xapi_vm_lifecycle.ml allowed_power_states (clone, copy).
 */
import { Simulator } from "../../simulator";
import { startWithClient } from "./helpers/simulator";
import { install, templateNamed } from "./helpers/install";
import { Client, expectError, Rec } from "./helpers/rpc";

const GiB = 1024 * 1024 * 1024;

let sim: Simulator;
let c: Client;
let pool: string;
let localSr: string;
let localSrUuid: string;
let other: string;
let pvTemplate: string;
beforeAll(async () => {
  ({ sim, c } = await startWithClient({ seed: { localSrSize: 500 * GiB } }));
  [pool] = await c.call<string[]>("pool.get_all");
  localSr = await c.call<string>("pool.get_default_SR", pool);
  localSrUuid = await c.call<string>("SR.get_uuid", localSr);
  other = await templateNamed(c, "Other install media");
  pvTemplate = await templateNamed(c, "CentOS 6 (64-bit)");
});
afterAll(() => sim.close());

const count = async (cls: string) => (await c.call<string[]>(`${cls}.get_all`)).length;

/** A template clone whose provisioning spec is `disks` (xapi_templates.ml's <provision> XML). */
async function templateWith(name: string, disks: string): Promise<string> {
  const vm = await c.call<string>("VM.clone", other, name);
  await c.call("VM.remove_from_other_config", vm, "disks");
  await c.call("VM.add_to_other_config", vm, "disks", `<provision>${disks}</provision>`);
  return vm;
}

describe("VM.provision (xapi_vm.ml provision, xapi_templates.ml)", () => {
  it('clears is_a_template before making disks: the templates\' sr="" fails UUID_INVALID [sr, ""] and leaves a non-template', async () => {
    const debian = await templateNamed(c, "Debian Bookworm 12");
    const vm = await c.call<string>("VM.clone", debian, "sr-empty");
    const spec = (await c.call<Record<string, string>>("VM.get_other_config", vm)).disks;
    expect(spec).toContain('sr=""');
    await expectError(c.call("VM.provision", vm), "UUID_INVALID", ["sr", ""]);
    expect(await c.call("VM.get_is_a_template", vm)).toBe(false);
    // post_install never ran: the spec stays, so the VM can be given an SR and provisioned... but no longer
    // as a template (PROVISION_ONLY_ALLOWED_ON_TEMPLATE).
    expect((await c.call<Record<string, string>>("VM.get_other_config", vm)).disks).toBe(spec);
    expect(await c.call("VM.get_VBDs", vm)).toEqual([]);
    await expectError(c.call("VM.provision", vm), "PROVISION_ONLY_ALLOWED_ON_TEMPLATE", []);
  });

  it("resolves each disk's sr by uuid only; the disks made before a failing one stay (pre_install has no clean-up)", async () => {
    const vdis = await count("VDI");
    const vm = await templateWith(
      "sr-by-name",
      `<disk device="0" size="${GiB}" sr="${localSrUuid}" bootable="true" type="system"/>` +
        `<disk device="1" size="${GiB}" sr="Local storage" bootable="false" type="user"/>`,
    );
    await expectError(c.call("VM.provision", vm), "UUID_INVALID", ["sr", "Local storage"]);
    expect(await c.call("VM.get_is_a_template", vm)).toBe(false);
    const vbds = await c.call<string[]>("VM.get_VBDs", vm);
    expect(vbds).toHaveLength(1);
    expect(await count("VDI")).toBe(vdis + 1);
  });

  it("makes each disk: VDI named after its VBD's userdevice, vmhint, non-system disks unpluggable; removes the spec", async () => {
    const vm = await templateWith(
      "two-disks",
      `<disk device="0" size="${GiB}" sr="${localSrUuid}" bootable="true" type="system"/>` +
        `<disk device="3" size="${2 * GiB}" sr="${localSrUuid}" bootable="false" type="user"/>` +
        `<disk device="4" size="${GiB}" sr="${localSrUuid}" bootable="false" type="weird"/>`,
    );
    await c.call("VM.add_to_other_config", vm, "postinstall", "true");
    await c.call("VM.provision", vm);
    const uuid = await c.call<string>("VM.get_uuid", vm);
    const vbds = await Promise.all(
      (await c.call<string[]>("VM.get_VBDs", vm)).map((b) => c.call<Rec>("VBD.get_record", b)),
    );
    const rows = await Promise.all(
      vbds.map(async (b) => {
        const vdi = await c.call<Rec>("VDI.get_record", b.VDI);
        return [b.userdevice, b.unpluggable, vdi.name_label, vdi.type, (vdi.sm_config as Rec).vmhint];
      }),
    );
    expect(rows).toEqual([
      ["0", false, "0", "system", uuid],
      ["3", true, "3", "user", uuid],
      // An unknown type is "system" (string2vdi_type raises, disk_of_xml falls back).
      ["4", false, "4", "system", uuid],
    ]);
    const oc = await c.call<Record<string, string>>("VM.get_other_config", vm);
    expect(oc.disks).toBeUndefined();
    expect(oc.postinstall).toBeUndefined();
  });

  it("refuses an unparsable spec before touching the template ([UNSURE] INTERNAL_ERROR [Xapi_templates.Parse_failure])", async () => {
    const vm = await templateWith("bad-spec", `<disk device="0" size="10G" sr="${localSrUuid}" bootable="true"/>`);
    await expectError(c.call("VM.provision", vm), "INTERNAL_ERROR", ["Xapi_templates.Parse_failure"]);
    expect(await c.call("VM.get_is_a_template", vm)).toBe(true);
  });
});

/** A halted VM with a 10 GiB and a 300 GiB disk on the (thick) local SR. */
async function twoDiskVm(name: string): Promise<string> {
  const vm = await install(c, other, name);
  for (const [i, size] of [10 * GiB, 300 * GiB].entries()) {
    const vdi = await c.call<string>("VDI.create", {
      name_label: `${name}-${i}`,
      SR: localSr,
      virtual_size: size,
      type: "user",
      sharable: false,
      read_only: false,
      other_config: {},
    });
    await c.call("VBD.create", {
      VM: vm,
      VDI: vdi,
      userdevice: String(i + 1),
      bootable: false,
      mode: "RW",
      type: "Disk",
      empty: false,
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    });
  }
  return vm;
}

describe("VM.clone and VM.copy (xapi_vm_clone.ml clone, safe_clone_disks; xapi_vm.ml copy)", () => {
  it("VM.clone destroys the disks it cloned when a later disk fails, and makes no VM", async () => {
    const vm = await twoDiskVm("clone-rollback");
    const [vdis, vms, free] = [await count("VDI"), await count("VM"), await srFree()];
    // The 10 GiB clone fits; the 300 GiB one does not (500 GiB SR, 310 GiB used).
    await expectError(c.call("VM.clone", vm, "never"), "SR_BACKEND_FAILURE_44");
    expect([await count("VDI"), await count("VM"), await srFree()]).toEqual([vdis, vms, free]);
    expect(await c.call("VM.get_by_name_label", "never")).toEqual([]);
    expect(await c.call("VM.get_current_operations", vm)).toEqual({});
  });

  it("VM.copy rolls back the same way", async () => {
    const [vm] = await c.call<string[]>("VM.get_by_name_label", "clone-rollback");
    const [vdis, vms] = [await count("VDI"), await count("VM")];
    await expectError(c.call("VM.copy", vm, "never-copied", localSr), "SR_BACKEND_FAILURE_44");
    expect([await count("VDI"), await count("VM")]).toEqual([vdis, vms]);
  });

  it("VM.copy onto an ISO SR: OPERATION_NOT_ALLOWED [Cannot copy a VM's disks to an ISO SR]", async () => {
    const vm = await install(c, other, "copy-to-iso");
    const srs = await c.call<Record<string, Rec>>("SR.get_all_records");
    const isoSr = Object.keys(srs).find((r) => srs[r].content_type === "iso")!;
    expect(isoSr).toMatch(/^OpaqueRef:/);
    await expectError(c.call("VM.copy", vm, "copied", isoSr), "OPERATION_NOT_ALLOWED", [
      "Cannot copy a VM's disks to an ISO SR",
    ]);
    // An SR that does not exist means "each disk into its own SR".
    const copy = await c.call<string>("VM.copy", vm, "copied", "OpaqueRef:NULL");
    expect(await c.call("VM.get_power_state", copy)).toBe("Halted");
  });

  async function srFree(): Promise<number> {
    const r = await c.call<Rec>("SR.get_record", localSr);
    return (r.physical_size as number) - (r.physical_utilisation as number);
  }
});

describe("cloning a Suspended VM (xapi_vm_lifecycle.ml allowed_power_states, helpers.ml clone_suspended_vm_enabled)", () => {
  let vm: string;
  beforeAll(async () => {
    vm = await install(c, pvTemplate, "suspended-src");
    await c.call("VM.start", vm, false, false);
    await c.call("VM.suspend", vm);
  });
  afterAll(async () => {
    await c.call("pool.remove_from_other_config", pool, "allow_clone_suspended_vm");
  });

  it("is refused by default: VM_BAD_POWER_STATE [vm, halted, suspended] for clone and copy", async () => {
    await expectError(c.call("VM.clone", vm, "no"), "VM_BAD_POWER_STATE", [vm, "halted", "suspended"]);
    await expectError(c.call("VM.copy", vm, "no", localSr), "VM_BAD_POWER_STATE", [vm, "halted", "suspended"]);
    expect(await c.call<string[]>("VM.get_allowed_operations", vm)).not.toContain("clone");
  });

  it("with pool other_config:allow_clone_suspended_vm=true makes a Suspended clone with its own suspend image", async () => {
    await c.call("pool.add_to_other_config", pool, "allow_clone_suspended_vm", "true");
    const clone = await c.call<string>("VM.clone", vm, "suspended-clone");
    const r = await c.call<Rec>("VM.get_record", clone);
    const srcImage = await c.call<string>("VM.get_suspend_VDI", vm);
    expect(r.power_state).toBe("Suspended");
    expect(r.suspend_VDI).toMatch(/^OpaqueRef:/);
    expect(r.suspend_VDI).not.toBe(srcImage);
    expect(await c.call("VDI.get_type", r.suspend_VDI)).toBe("suspend");
    await c.call("VM.hard_shutdown", clone);
    expect(await c.call("VM.get_suspend_VDI", clone)).toBe("OpaqueRef:NULL");
    expect(await c.call("VM.get_suspend_VDI", vm)).toBe(srcImage);
  });

  it("a clone of a checkpoint (a Suspended snapshot) comes out Halted (xapi_vm.ml clone: hard_shutdown)", async () => {
    await c.call("pool.remove_from_other_config", pool, "allow_clone_suspended_vm");
    const running = await install(c, pvTemplate, "checkpointed");
    await c.call("VM.start", running, false, false);
    const snap = await c.call<string>("VM.checkpoint", running, "cp");
    expect(await c.call("VM.get_power_state", snap)).toBe("Suspended");
    const fromSnap = await c.call<string>("VM.clone", snap, "from-checkpoint");
    expect(await c.call("VM.get_power_state", fromSnap)).toBe("Halted");
    expect(await c.call("VM.get_suspend_VDI", fromSnap)).toBe("OpaqueRef:NULL");
    await c.call("VM.hard_shutdown", running);
  });
});
