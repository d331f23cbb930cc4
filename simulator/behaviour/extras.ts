/** Small custom messages that only touch the DB: VIF IP configuration, PIF properties, VDI.introduce, message bulk delete. */
import { fail } from "../engine/errors";
import { EPOCH, NULL_REF } from "../engine/datamodel";
import { Xapi } from "../engine/xapi";
import { refreshVdi } from "./allowed-ops";
import { account } from "./sr";

export function register(x: Xapi): void {
  x.on("VIF.configure_ipv4", (xx, _ctx, [self, mode, address, gateway]) => {
    xx.store.get("VIF", self);
    xx.store.update(
      "VIF",
      self as string,
      mode === "Static"
        ? { ipv4_configuration_mode: mode, ipv4_addresses: address ? [address] : [], ipv4_gateway: gateway ?? "" }
        : { ipv4_configuration_mode: mode, ipv4_addresses: [], ipv4_gateway: "" },
    );
  });
  x.on("VIF.configure_ipv6", (xx, _ctx, [self, mode, address, gateway]) => {
    xx.store.get("VIF", self);
    xx.store.update(
      "VIF",
      self as string,
      mode === "Static"
        ? { ipv6_configuration_mode: mode, ipv6_addresses: address ? [address] : [], ipv6_gateway: gateway ?? "" }
        : { ipv6_configuration_mode: mode, ipv6_addresses: [], ipv6_gateway: "" },
    );
  });
  x.on("PIF.set_property", (xx, _ctx, [self, name, value]) => {
    const p = xx.store.get("PIF", self);
    // xapi_pif.set_property knows one property, gro, with values on/off.
    if (name !== "gro") fail("INVALID_VALUE", "properties", String(name));
    if (value !== "on" && value !== "off") fail("INVALID_VALUE", "properties", String(value));
    xx.store.set("PIF", self as string, "properties", { ...(p.properties as object), [name as string]: value });
  });
  x.on("message.destroy_many", (xx, _ctx, [messages]) => {
    for (const m of messages as string[]) if (xx.store.has("message", m)) xx.store.destroy("message", m);
  });
  x.on("VDI.introduce", (xx, _ctx, args) => {
    const [
      uuid,
      name_label,
      name_description,
      SR,
      type,
      sharable,
      read_only,
      other_config,
      location,
      xenstore_data,
      sm_config,
      managed,
      virtual_size,
      physical_utilisation,
      metadata_of_pool,
      is_a_snapshot,
      snapshot_time,
      snapshot_of,
    ] = args;
    xx.store.get("SR", SR);
    if (uuid && [...xx.store.table("VDI").values()].some((v) => v.uuid === uuid))
      fail("DB_UNIQUENESS_CONSTRAINT_VIOLATION", "VDI", "uuid", String(uuid));
    const ref = xx.store.create("VDI", {
      ...(uuid ? { uuid } : {}),
      name_label,
      name_description,
      SR,
      type,
      sharable,
      read_only,
      other_config,
      location,
      xenstore_data,
      sm_config,
      managed: managed ?? true,
      virtual_size: virtual_size ?? 0,
      physical_utilisation: physical_utilisation ?? 0,
      metadata_of_pool: metadata_of_pool ?? NULL_REF,
      is_a_snapshot: is_a_snapshot ?? false,
      snapshot_time: snapshot_time ?? EPOCH,
      snapshot_of: snapshot_of ?? NULL_REF,
      storage_lock: false,
      missing: false,
      parent: NULL_REF,
      current_operations: {},
    });
    account(xx, SR as string);
    refreshVdi(xx, ref);
    return ref;
  });
}
