/** Moving running VMs between hosts of the pool: VM.pool_migrate and host evacuation. */
import { fail, XapiError } from "../engine/errors";
import { Xapi } from "../engine/xapi";
import { withVmOperation } from "./allowed-ops";
import { refreshHostMemory } from "./host";
import { bootError, chooseHost } from "./vm-boot-checks";

function move(x: Xapi, vm: string, to: string): void {
  const from = x.store.get("VM", vm).resident_on as string;
  if (from === to) return;
  x.store.set("VM", vm, "resident_on", to);
  refreshHostMemory(x, from);
  refreshHostMemory(x, to);
}

function movable(x: Xapi, host: string): string[] {
  return (x.store.get("host", host).resident_VMs as string[]).filter((v) => !x.store.get("VM", v).is_control_domain);
}

/** Where each VM on `host` would go, or the error that keeps it there. */
function plan(x: Xapi, host: string): Map<string, string | XapiError> {
  const out = new Map<string, string | XapiError>();
  for (const vm of movable(x, host)) {
    try {
      out.set(vm, chooseHost(x, vm, host));
    } catch (e) {
      out.set(vm, e as XapiError);
    }
  }
  return out;
}

export function register(x: Xapi): void {
  x.on("VM.pool_migrate", (xx, ctx, [vm, host]) => {
    xx.store.get("VM", vm);
    xx.store.get("host", host);
    return withVmOperation(xx, ctx, vm as string, "pool_migrate", () => {
      if (xx.store.get("VM", vm).resident_on !== host) {
        const e = bootError(xx, vm as string, host as string, true);
        if (e) throw e;
      }
      move(xx, vm as string, host as string);
    });
  });
  x.on("host.get_vms_which_prevent_evacuation", (xx, _ctx, [host]) => {
    xx.store.get("host", host);
    const out: Record<string, string[]> = {};
    for (const [vm, dest] of plan(xx, host as string)) if (dest instanceof XapiError) out[vm] = dest.description;
    return out;
  });
  x.on("host.assert_can_evacuate", (xx, _ctx, [host]) => {
    xx.store.get("host", host);
    for (const dest of plan(xx, host as string).values()) if (dest instanceof XapiError) throw dest;
  });
  x.on("host.evacuate", (xx, _ctx, [host]) => {
    xx.store.get("host", host);
    for (const vm of movable(xx, host as string)) {
      const to = chooseHost(xx, vm, host as string);
      move(xx, vm, to);
    }
    if (movable(xx, host as string).length > 0) fail("HOST_NOT_ENOUGH_FREE_MEMORY", "0", "0");
  });
}
