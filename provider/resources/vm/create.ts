// create(): clone or copy the template, provision its disks onto the SR (grown as the program asks), set CPU,
// memory, firmware and the owned maps, add disks, NICs, the CD drive and the cloud-init drive, then bring the VM
// to its power state and wait for its address. A failure midway destroys what was made.
import type { CreateResult, ResourceContext } from "../contract";
import { xapiFor, type Xapi } from "../common/connection";
import { undoCreate } from "../common/create-result";
import { recordsOfRefs, refByUuid } from "../common/lookups";
import { progressReporter, reportStatus } from "../common/progress";
import type { Inputs, Outputs } from "./inputs";
import { defaultSr, findTemplate, provisionDisks, rewriteProvision } from "./lookups";
import { applyCdrom, applyDisks, applyNics, createVbd } from "./devices";
import { uploadCloudInit } from "./cloud-init";
import { applyHalted, applySettings } from "./settings";
import { diskVbds, readLive, outputsOf, type Live } from "./live";
import { setPowerState, waitForIp, type PowerState } from "./power";
import { NULL_REF, type VBDRecord, type VMRecord } from "./records";
import { detachCloudInit, waitForAgent } from "./after-boot";
import type { GuestSeen } from "./guest-watch";

export async function create(n: Inputs, ctx: ResourceContext): Promise<CreateResult<Outputs>> {
  const xapi = await xapiFor(ctx.config, n.connection);
  if (n.adopt) return adopt(xapi, n);
  const template = await findTemplate(xapi, n.template!);
  const srRef = n.sr ? await refByUuid(xapi, "SR", n.sr) : await defaultSr(xapi);
  if (n.sr && !srRef) throw new Error(`sr: no SR with UUID ${n.sr} in this pool`);
  const ref =
    n.cloneType === "full"
      ? await xapi.callAsync<string>("VM.copy", [template.ref, n.name, srRef ?? NULL_REF], {
          onProgress: progressReporter(`copying template "${n.template}"`),
        })
      : await xapi.callAsync<string>("VM.clone", [template.ref, n.name], {
          onProgress: progressReporter(`cloning template "${n.template}"`),
        });
  let cloudInitVdi: string | undefined;
  try {
    await provision(xapi, ref, n, srRef);
    const vm = await xapi.call<VMRecord>("VM.get_record", ref);
    await applySettings(xapi, ref, vm, n, {});
    // The same record: applySettings changed names and owned maps, not what applyHalted compares.
    await applyHalted(xapi, ref, vm, n, {});
    // The record just read still lists the VM's devices: the settings above add none.
    const live = (await readLive(xapi, vm.uuid, undefined, { ref, record: vm }))!;
    // The disks the VM has now are the template's: listed or not, they are the first positions.
    const fromTemplate: Partial<Outputs> = {
      disks: diskVbds(live).map(() => ({ fromTemplate: true, owned: true }) as Outputs["disks"][number]),
    };
    await applyDisks(xapi, live, n, fromTemplate.disks!, false, undefined);
    await applyNics(xapi, live, n.networkInterfaces ?? [], false);
    await applyCdrom(xapi, live, n.cdrom);
    if (n.cloudInit) {
      const sr = srRef ?? (await defaultSr(xapi));
      if (!sr) throw new Error("cloudInit: no SR for the config drive (the pool has no default SR); give sr");
      reportStatus("writing the cloud-init drive");
      const vdi = await uploadCloudInit(xapi, sr, n);
      cloudInitVdi = await xapi.call<string>("VDI.get_uuid", vdi);
      const vbds = await recordsOfRefs<VBDRecord>(xapi, "VBD", await xapi.call<string[]>("VM.get_VBDs", ref));
      const used = new Set(Object.values(vbds).map((b) => b.userdevice));
      let dev = 0;
      while (used.has(String(dev)) || dev === 3) dev++;
      await createVbd(xapi, ref, vdi, String(dev), "Disk", "RO", false, false, true);
    }
    const outs = await bringUp(xapi, ref, vm.uuid, n, "Halted", cloudInitVdi ?? null, fromTemplate);
    return { id: vm.uuid, outs };
  } catch (err) {
    return undoCreate(
      err,
      { kind: "VM", cli: "vm", name: n.name, identity: n.identity },
      () => destroyMade(xapi, ref, cloudInitVdi),
      () => xapi.call<string>("VM.get_uuid", ref),
    );
  }
}

/** VM.provision: the template's disks onto the SR (the provision XML's empty sr= rewritten, as xe vm-install does). */
async function provision(xapi: Xapi, ref: string, n: Inputs, srRef: string | undefined): Promise<void> {
  const other = await xapi.call<Record<string, string>>("VM.get_other_config", ref);
  if (other.disks) {
    if (!srRef) throw new Error("sr: the pool has no default SR to put the template's disks on; give sr");
    const srUuid = await xapi.call<string>("SR.get_uuid", srRef);
    const tDisks = provisionDisks(other.disks);
    const sizes = tDisks.map((d, i) => {
      const want = n.disks?.[i];
      return want && want.vdi === undefined && want.size !== undefined && want.size > d.size ? want.size : undefined;
    });
    await xapi.call("VM.remove_from_other_config", ref, "disks");
    await xapi.call("VM.add_to_other_config", ref, "disks", rewriteProvision(other.disks, srUuid, sizes));
  }
  // Also clears the template flag when the template has no disks to provision (xapi_vm.ml provision).
  await xapi.callAsync("VM.provision", [ref], { onProgress: progressReporter("provisioning the template's disks") });
}

/**
 * From `from` to the program's power state; after a boot, waits for the address (waitForIp) and removes the
 * cloud-init drive (detachAfterBoot). Returns the outputs read afterwards.
 */
export async function bringUp(
  xapi: Xapi,
  ref: string,
  uuid: string,
  n: Inputs,
  from: PowerState,
  cloudInitVdi: string | null,
  previous?: Partial<Outputs>,
  guestRead?: GuestSeen,
): Promise<Outputs> {
  const booted =
    n.powerState !== undefined ? await setPowerState(xapi, ref, from, n.powerState, n.shutdownTimeout ?? 120) : false;
  let secureBootReadiness = previous?.secureBootReadiness ?? null;
  // What the guest agent reported (read by the caller, or while we waited): the outputs use it, not a new read.
  let seen = n.powerState === undefined || n.powerState === from ? guestRead : undefined;
  if (booted && n.waitForIp) seen = (await waitForIp(xapi, ref, n.name, n.waitForIp)).seen;
  if (cloudInitVdi && n.cloudInit?.detachAfterBoot && (n.powerState === "Running" || booted)) {
    if (!n.waitForIp) seen = await waitForAgent(xapi, ref, n.name, 300);
    await detachCloudInit(xapi, ref, cloudInitVdi);
    cloudInitVdi = null;
  }
  if (n.boot?.firmware === "uefi-secureboot") secureBootReadiness = await readiness(xapi, ref);
  const live = (await readLive(xapi, uuid, seen, { ref })) as Live;
  return outputsOf(xapi, live, n, { ...previous, cloudInitVdi, secureBootReadiness });
}

/** VM.get_secureboot_readiness where the pool has it (XenServer 8.x); null elsewhere. */
async function readiness(xapi: Xapi, ref: string): Promise<string | null> {
  try {
    return await xapi.call<string>("VM.get_secureboot_readiness", ref);
  } catch {
    return null;
  }
}

/** Undo of a half-made VM: halt it, destroy it and the disks it was given (never an attached Vdi resource). */
async function destroyMade(xapi: Xapi, ref: string, cloudInitVdi: string | undefined): Promise<void> {
  const state = await xapi.call<PowerState>("VM.get_power_state", ref);
  if (state !== "Halted") await xapi.callAsync("VM.hard_shutdown", [ref]);
  const vbds = await recordsOfRefs<{ VDI: string; type: string; other_config: Record<string, string> }>(
    xapi,
    "VBD",
    await xapi.call<string[]>("VM.get_VBDs", ref),
  );
  const owned = Object.values(vbds)
    .filter((b) => b.type === "Disk" && b.VDI !== NULL_REF && "owner" in b.other_config)
    .map((b) => b.VDI);
  await xapi.callAsync("VM.destroy", [ref]);
  for (const vdi of owned) await xapi.callAsync("VDI.destroy", [vdi]);
  if (cloudInitVdi) {
    const vdi = await refByUuid(xapi, "VDI", cloudInitVdi);
    if (vdi) await xapi.callAsync("VDI.destroy", [vdi]);
  }
}

/** adopt: take over an existing VM, changing only what the program states. */
async function adopt(xapi: Xapi, n: Inputs): Promise<CreateResult<Outputs>> {
  const live = await readLive(xapi, n.adopt!, "skip");
  if (!live)
    throw new Error(`adopt: no VM with UUID ${n.adopt} in this pool (templates and snapshots cannot be adopted)`);
  const previous: Partial<Outputs> = { otherConfig: {}, tags: [] };
  await applySettings(xapi, live.ref, live.vm, n, previous);
  const running = live.vm.power_state !== "Halted";
  if (!running) await applyHalted(xapi, live.ref, live.vm, n, previous);
  // Adopted disks are the VM's own: owned (destroyed with it) unless attached from a Vdi resource.
  if (n.disks) await applyDisks(xapi, live, n, [], running, null);
  if (n.networkInterfaces) await applyNics(xapi, live, n.networkInterfaces, running);
  await applyCdrom(xapi, live, n.cdrom);
  const outs = await bringUp(xapi, live.ref, live.vm.uuid, n, live.vm.power_state, null, previous);
  return { id: live.vm.uuid, outs };
}
