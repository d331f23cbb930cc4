/** Registers every hand-written behaviour; everything else is served generically from the datamodel. */
import { Xapi } from "../engine/xapi";
import * as sessions from "../engine/sessions";
import * as tasks from "../engine/tasks";
import * as events from "../engine/events";
import * as rbac from "../engine/rbac";
import * as pool from "./pool";
import * as host from "./host";
import * as network from "./network";
import * as sr from "./sr";
import * as vdi from "./vdi";
import * as vbd from "./vbd";
import * as vif from "./vif";
import * as vm from "./vm";
import * as migration from "./migration";
import * as guestMetrics from "./guest-metrics";

export function registerAll(x: Xapi): void {
  for (const m of [sessions, tasks, events, rbac, pool, host, network, sr, vdi, vbd, vif, vm, migration, guestMetrics])
    m.register(x);
}
