/** A realistic default pool: hosts with dom0, NICs and networks, storage drivers, SRs, ISOs and the default templates. */
import { setGuest } from "./guest-agent";
import templatesJson from "../data/templates.json";
import { EPOCH } from "../engine/datamodel";
import { nowDatetime } from "../engine/time";
import { Xapi } from "../engine/xapi";
import { GiB, macFrom, MiB, parseSize } from "./units";
import { SM_DRIVERS } from "./sm-drivers";
import { memoryOverhead } from "./host";

export interface SeedOptions {
  /** Number of hosts (default 1). */
  hosts: number;
  /** Add a shared NFS SR plugged on every host. */
  nfs?: boolean;
  /** Host memory in bytes (default 64 GiB). */
  hostMemory?: number;
  /** Local SR size in bytes (default 500 GiB). */
  localSrSize?: number;
  /** Extra ISO names in the ISO library. */
  isos?: string[];
  /** Include the default templates (default true). */
  templates?: boolean;
}

interface Template {
  uuid: string;
  reference_label: string;
  name_label: string;
  min_memory?: string;
  max_memory?: string;
  vcpus_max?: number;
  vcpus_min?: number;
  VCPUs_max?: number;
  VCPUs_at_startup?: number;
  disks?: { size: string; bootable?: boolean }[];
  other_config?: Record<string, string>;
  platform?: Record<string, string>;
  HVM_boot_policy?: string;
  HVM_boot_params?: Record<string, string>;
  PV_bootloader?: string;
  PV_args?: string;
  domain_type?: string;
  has_vendor_device?: boolean;
  generation_id?: string;
  number_of_vbds?: number;
  number_of_vifs?: number;
}

export const DOM0_MEMORY = 4 * GiB;

export function seedPool(x: Xapi, o: SeedOptions, addresses: string[]): void {
  const s = x.store;
  for (const d of SM_DRIVERS) {
    s.create("SM", {
      name_label: d.name,
      name_description: d.description,
      type: d.type,
      vendor: "Citrix Systems Inc",
      copyright: "(C) 2008 Citrix Systems Inc",
      version: "1.0",
      required_api_version: "1.0",
      configuration: d.configuration,
      capabilities: d.capabilities,
      features: Object.fromEntries(d.capabilities.map((c) => [c, 1])),
      driver_filename: `/opt/xensource/sm/${d.driver}`,
    });
  }
  const hosts: string[] = [];
  const mgmtNet = s.create("network", {
    name_label: "Pool-wide network associated with eth0",
    bridge: "xenbr0",
    MTU: 1500,
    other_config: {},
    default_locking_mode: "unlocked",
  });
  // Four NICs per host, as on a typical lab server: eth0 carries management.
  const nicNets = [1, 2, 3].map((n) =>
    s.create("network", {
      name_label: `Pool-wide network associated with eth${n}`,
      bridge: `xenbr${n}`,
      MTU: 1500,
      other_config: {},
      default_locking_mode: "unlocked",
    }),
  );
  s.create("network", {
    name_label: "Host internal management network",
    name_description:
      "Network on which guests will be assigned a private link-local IP address which can be used to talk XenAPI",
    bridge: "xenapi",
    MTU: 1500,
    other_config: {
      is_guest_installer_network: "true",
      is_host_internal_management_network: "true",
      ip_begin: "169.254.0.1",
      ip_end: "169.254.255.254",
      netmask: "255.255.0.0",
    },
    default_locking_mode: "unlocked",
  });
  const localSRs: string[] = [];
  for (let i = 0; i < o.hosts; i++) {
    const [host, sr] = seedHost(x, i, o, addresses[i] ?? "127.0.0.1", [mgmtNet, ...nicNets]);
    hosts.push(host);
    localSRs.push(sr);
  }
  const pool = s.create("pool", {
    name_label: "",
    name_description: "",
    master: hosts[0],
    other_config: {},
    metadata_VDIs: [],
  });
  s.update("pool", pool, { default_SR: localSRs[0], suspend_image_SR: localSRs[0], crash_dump_SR: localSRs[0] });
  seedIsoLibrary(x, hosts, o.isos ?? []);
  seedToolsSR(x, hosts);
  if (o.nfs) {
    const sr = s.create("SR", {
      name_label: "NFS storage",
      name_description: "NFS SR [nfs.sim.local:/export/vms]",
      type: "nfs",
      content_type: "user",
      shared: true,
      physical_size: 2048 * GiB,
      physical_utilisation: 0,
      virtual_allocation: 0,
      other_config: {},
      sm_config: {},
    });
    for (const h of hosts)
      s.create("PBD", {
        host: h,
        SR: sr,
        device_config: { server: "nfs.sim.local", serverpath: "/export/vms" },
        currently_attached: true,
        other_config: {},
      });
  }
  // The simulated guests: every default template's OS runs an agent, except "Other install media".
  if (o.templates !== false)
    for (const t of templatesJson as unknown as Template[])
      setGuest(x, seedTemplate(x, t), { agent: t.reference_label !== "other-install-media" });
}

function seedHost(x: Xapi, i: number, o: SeedOptions, address: string, nets: string[]): [string, string] {
  const s = x.store;
  const name = `sim-host-${i + 1}`;
  const total = o.hostMemory ?? 64 * GiB;
  const metrics = s.create("host_metrics", {
    memory_total: total,
    memory_free: total - DOM0_MEMORY,
    live: true,
    last_updated: nowDatetime(),
  });
  const host = s.create("host", {
    name_label: name,
    name_description: "Default install",
    hostname: name,
    address,
    enabled: true,
    metrics,
    API_version_major: x.opts.apiVersionMajor,
    API_version_minor: x.opts.apiVersionMinor,
    API_version_vendor: "XenSource",
    API_version_vendor_implementation: {},
    software_version: {
      // An XCP-ng 8.3 host (the API version is configurable; XenServer 8 reports 2.21 too).
      product_version: "8.3.0",
      product_version_text: "8.3",
      product_version_text_short: "8.3",
      platform_name: "XCP",
      platform_version: "3.4.0",
      product_brand: "XCP-ng",
      build_number: "sim",
      xapi: `${x.opts.apiVersionMajor}.${x.opts.apiVersionMinor}`,
      xen: "4.17.5",
      linux: "4.19.0+1",
      hostname: name,
      date: "2026-01-01",
    },
    other_config: {
      agent_start_time: `${Math.floor(Date.now() / 1000)}.`,
      boot_time: `${Math.floor(Date.now() / 1000) - 3600}.`,
    },
    capabilities: ["xen-3.0-x86_64", "hvm-3.0-x86_32", "hvm-3.0-x86_32p", "hvm-3.0-x86_64"],
    cpu_configuration: {},
    sched_policy: "credit",
    supported_bootloaders: ["pygrub", "eliloader"],
    logging: {},
    suspend_image_sr: "OpaqueRef:NULL",
    crash_dump_sr: "OpaqueRef:NULL",
    license_params: {},
    cpu_info: {
      cpu_count: "8",
      socket_count: "1",
      vendor: "GenuineIntel",
      speed: "2400.000",
      modelname: "Intel(R) Xeon(R) CPU (simulated)",
    },
    edition: "xcp-ng",
    iscsi_iqn: `iqn.2026-01.local.sim:${name}`,
  });
  for (let c = 0; c < 8; c++) {
    s.create("host_cpu", {
      host,
      number: c,
      vendor: "GenuineIntel",
      speed: 2400,
      modelname: "Intel(R) Xeon(R) CPU (simulated)",
      family: 6,
      model: 85,
      stepping: "4",
      flags: "fpu de tsc msr pae",
      features: "",
      utilisation: 0,
      other_config: {},
    });
  }
  const dom0 = s.create("VM", {
    name_label: `Control domain on host: ${name}`,
    name_description: "The domain which manages physical devices and manages other domains",
    is_control_domain: true,
    is_a_template: false,
    power_state: "Running",
    resident_on: host,
    domid: 0,
    memory_static_min: DOM0_MEMORY,
    memory_static_max: DOM0_MEMORY,
    memory_dynamic_min: DOM0_MEMORY,
    memory_dynamic_max: DOM0_MEMORY,
    memory_target: DOM0_MEMORY,
    VCPUs_max: 8,
    VCPUs_at_startup: 8,
    VCPUs_params: {},
    actions_after_shutdown: "destroy",
    actions_after_reboot: "restart",
    actions_after_crash: "restart",
    other_config: { storage_driver_domain: "OpaqueRef:NULL", is_system_domain: "true" },
    platform: {},
    HVM_boot_params: {},
    domain_type: "pv",
    user_version: 1,
    metrics: s.create("VM_metrics", {
      memory_actual: DOM0_MEMORY,
      VCPUs_number: 8,
      VCPUs_CPU: {},
      VCPUs_params: {},
      VCPUs_flags: {},
      state: [],
      start_time: nowDatetime(),
      install_time: EPOCH,
      last_updated: EPOCH,
      current_domain_type: "pv",
    }),
    allowed_operations: [],
  });
  s.set("host", host, "control_domain", dom0);
  const ips = [`10.0.${i}.10`, "", "", ""];
  ["eth0", "eth1", "eth2", "eth3"].forEach((device, n) => {
    const pifMetrics = s.create("PIF_metrics", {
      io_read_kbs: 0,
      io_write_kbs: 0,
      carrier: true,
      vendor_id: "8086",
      vendor_name: "Intel Corporation",
      device_id: "10d3",
      device_name: "82574L Gigabit Network Connection",
      speed: 1000,
      duplex: true,
      pci_bus_path: `0000:0${n + 1}:00.0`,
      other_config: {},
      last_updated: EPOCH,
    });
    s.create("PIF", {
      device,
      network: nets[n],
      host,
      MAC: macFrom(`${name}/${device}`),
      MTU: 1500,
      VLAN: -1,
      metrics: pifMetrics,
      physical: true,
      currently_attached: true,
      management: n === 0,
      ip_configuration_mode: n === 0 ? "Static" : "None",
      IP: ips[n],
      netmask: n === 0 ? "255.255.255.0" : "",
      gateway: n === 0 ? `10.0.${i}.1` : "",
      DNS: n === 0 ? "10.0.0.53" : "",
      properties: { gro: "on" },
    });
  });
  const size = o.localSrSize ?? 500 * GiB;
  const sr = s.create("SR", {
    name_label: "Local storage",
    name_description: "",
    type: "lvm",
    content_type: "user",
    shared: false,
    physical_size: size,
    physical_utilisation: 4 * MiB,
    virtual_allocation: 0,
    other_config: { "i18n-original-value-name_label": "Local storage", "i18n-key": "local-storage" },
    sm_config: { allocation: "thick", use_vhd: "true", devserial: `scsi-sim-${i}` },
  });
  s.create("PBD", {
    host,
    SR: sr,
    device_config: { device: `/dev/disk/by-id/scsi-sim-${i}-part3` },
    currently_attached: true,
    other_config: {},
  });
  // [UNSURE] The installer's first boot points the host's suspend and crash-dump SRs at its local SR too
  // (as it does the pool's); helpers.ml choose_suspend_sr falls back to the host's when the pool's is not
  // visible from the VM's host.
  s.update("host", host, { suspend_image_sr: sr, crash_dump_sr: sr });
  return [host, sr];
}

const DEFAULT_ISOS = [
  "debian-12.7.0-amd64-netinst.iso",
  "ubuntu-24.04.1-live-server-amd64.iso",
  "alpine-virt-3.20.3-x86_64.iso",
];

function seedIsoLibrary(x: Xapi, hosts: string[], extra: string[]): void {
  const s = x.store;
  const sr = s.create("SR", {
    name_label: "ISO library",
    name_description: "NFS ISO Library [iso.sim.local:/isos]",
    type: "iso",
    content_type: "iso",
    shared: true,
    physical_size: 100 * GiB,
    physical_utilisation: 0,
    virtual_allocation: 0,
    // As XenCenter creates ISO libraries: rescanned by xapi's SR scanning thread.
    other_config: { "auto-scan": "true" },
    sm_config: { iso_type: "nfs_iso" },
  });
  for (const h of hosts)
    s.create("PBD", {
      host: h,
      SR: sr,
      device_config: { location: "iso.sim.local:/isos", type: "nfs_iso" },
      currently_attached: true,
      other_config: {},
    });
  let used = 0;
  for (const name of [...DEFAULT_ISOS, ...extra]) {
    const size = 600 * MiB + name.length * MiB;
    used += size;
    isoVdi(x, sr, name, size, false);
  }
  s.update("SR", sr, { physical_utilisation: used, virtual_allocation: used });
}

function seedToolsSR(x: Xapi, hosts: string[]): void {
  const s = x.store;
  const sr = s.create("SR", {
    name_label: "XCP-ng Tools",
    name_description: "XCP-ng Tools ISO",
    type: "iso",
    content_type: "iso",
    shared: true,
    physical_size: 0,
    physical_utilisation: 0,
    virtual_allocation: 0,
    other_config: { xensource_internal: "true", xenserver_tools_sr: "true" },
    sm_config: {},
    is_tools_sr: true,
  });
  for (const h of hosts)
    s.create("PBD", {
      host: h,
      SR: sr,
      device_config: { location: "/opt/xensource/packages/iso", legacy_mode: "true" },
      currently_attached: true,
      other_config: {},
    });
  isoVdi(x, sr, "guest-tools.iso", 60 * MiB, true);
}

function isoVdi(x: Xapi, sr: string, name: string, size: number, tools: boolean): string {
  return x.store.create("VDI", {
    name_label: name,
    name_description: "",
    SR: sr,
    virtual_size: size,
    physical_utilisation: size,
    type: "user",
    sharable: false,
    read_only: true,
    other_config: {},
    storage_lock: false,
    location: name,
    managed: true,
    missing: false,
    parent: "OpaqueRef:NULL",
    sm_config: {},
    is_tools_iso: tools,
    allowed_operations: ["forget", "destroy", "force_unlock", "generate_config", "update", "copy", "clone", "snapshot"],
  });
}

function seedTemplate(x: Xapi, t: Template): string {
  const minMem = parseSize(t.min_memory ?? "256M");
  const vcpus = t.VCPUs_max ?? t.vcpus_min ?? 1;
  const disks = (t.disks ?? [])
    .map(
      (d, i) =>
        `<disk device="${i}" size="${parseSize(d.size)}" sr="" bootable="${d.bootable === false ? "false" : "true"}" type="system"/>`,
    )
    .join("");
  const restrictions = [
    `<restriction field="memory-static-max" max="${parseSize(t.max_memory ?? "128G")}"/>`,
    `<restriction field="vcpus-max" max="${t.vcpus_max ?? 32}"/>`,
    `<restriction property="number-of-vbds" max="${t.number_of_vbds ?? 255}"/>`,
    `<restriction property="number-of-vifs" max="${t.number_of_vifs ?? 7}"/>`,
  ].join("");
  const hvm = t.HVM_boot_policy ?? "";
  return x.store.create("VM", {
    uuid: t.uuid,
    name_label: t.name_label,
    name_description: `Template which allows VM installation from install media`,
    reference_label: t.reference_label,
    is_a_template: true,
    is_default_template: true,
    user_version: 1,
    affinity: "OpaqueRef:NULL",
    memory_static_min: minMem,
    memory_dynamic_min: minMem,
    memory_dynamic_max: minMem,
    memory_static_max: minMem,
    memory_target: 0,
    VCPUs_params: {},
    VCPUs_max: vcpus,
    VCPUs_at_startup: t.VCPUs_at_startup ?? vcpus,
    actions_after_shutdown: "destroy",
    actions_after_reboot: "restart",
    actions_after_crash: "restart",
    PV_bootloader: t.PV_bootloader ?? "",
    PV_kernel: "",
    PV_ramdisk: "",
    PV_args: t.PV_args ?? "",
    PV_bootloader_args: "",
    PV_legacy_args: "",
    HVM_boot_policy: hvm,
    HVM_boot_params: t.HVM_boot_params ?? {},
    platform: t.platform ?? {},
    PCI_bus: "",
    other_config: {
      ...(t.other_config ?? {}),
      default_template: "true",
      ...(disks ? { disks: `<provision>${disks}</provision>` } : {}),
    },
    recommendations: `<restrictions>${restrictions}</restrictions>`,
    domain_type: t.domain_type ?? (hvm ? "hvm" : "pv"),
    memory_overhead: memoryOverhead({ memory_static_max: minMem, VCPUs_max: vcpus }),
    has_vendor_device: t.has_vendor_device ?? false,
    generation_id: t.generation_id ?? "",
    metrics: "OpaqueRef:NULL",
    guest_metrics: "OpaqueRef:NULL",
  });
}
