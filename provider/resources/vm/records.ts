// The parts of XAPI's VM, VBD, VIF, VDI, guest-metrics and console records the Vm resource reads.
export const NULL_REF = "OpaqueRef:NULL";

export interface VMRecord {
  uuid: string;
  name_label: string;
  name_description: string;
  power_state: "Halted" | "Running" | "Paused" | "Suspended";
  is_a_template: boolean;
  resident_on: string;
  affinity: string;
  VCPUs_max: number;
  VCPUs_at_startup: number;
  memory_static_min: number;
  memory_dynamic_min: number;
  memory_dynamic_max: number;
  memory_static_max: number;
  other_config: Record<string, string>;
  xenstore_data: Record<string, string>;
  platform: Record<string, string>;
  blocked_operations: Record<string, string>;
  tags: string[];
  ha_restart_priority: string;
  start_delay: number;
  shutdown_delay: number;
  HVM_boot_params: Record<string, string>;
  HVM_boot_policy: string;
  guest_metrics: string;
  VBDs: string[];
  VIFs: string[];
  consoles: string[];
}

export interface VBDRecord {
  uuid: string;
  VM: string;
  VDI: string;
  userdevice: string;
  type: "Disk" | "CD" | "Floppy";
  mode: "RW" | "RO";
  bootable: boolean;
  empty: boolean;
  currently_attached: boolean;
  other_config: Record<string, string>;
}

export interface VIFRecord {
  uuid: string;
  VM: string;
  device: string;
  network: string;
  MAC: string;
  MTU: number;
  locking_mode: string;
  ipv4_allowed: string[];
  ipv6_allowed: string[];
  currently_attached: boolean;
}

export interface VDIRecord {
  uuid: string;
  name_label: string;
  SR: string;
  virtual_size: number;
  VBDs: string[];
}

export interface GuestMetricsRecord {
  networks: Record<string, string>;
  os_version: Record<string, string>;
  other: Record<string, string>;
  can_use_hotplug_vbd?: string;
  can_use_hotplug_vif?: string;
}
