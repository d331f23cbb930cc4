import { Client } from "./rpc";

/**
 * What `xe vm-install` does (xapi-cli-server cli_operations.ml vm_install, cli_util.ml
 * rewrite_provisioning_xml): clone the template, point every provisioning disk at the pool's default SR
 * (xapi itself never resolves the templates' empty sr=""), then VM.provision.
 */
export async function install(c: Client, template: string, name: string): Promise<string> {
  const vm = await c.call<string>("VM.clone", template, name);
  const [pool] = await c.call<string[]>("pool.get_all");
  const srUuid = await c.call<string>("SR.get_uuid", await c.call<string>("pool.get_default_SR", pool));
  const oc = await c.call<Record<string, string>>("VM.get_other_config", vm);
  if (oc.disks) {
    await c.call("VM.remove_from_other_config", vm, "disks");
    await c.call("VM.add_to_other_config", vm, "disks", oc.disks.replace(/sr="[^"]*"/g, `sr="${srUuid}"`));
  }
  await c.call("VM.provision", vm);
  return vm;
}

export async function templateNamed(c: Client, name: string): Promise<string> {
  const [t] = await c.call<string[]>("VM.get_by_name_label", name);
  if (!t) throw new Error(`no template ${name}`);
  return t;
}

export async function masterHost(c: Client): Promise<string> {
  const [pool] = await c.call<string[]>("pool.get_all");
  return c.call<string>("pool.get_master", pool);
}
