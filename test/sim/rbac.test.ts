// RBAC in the simulator: directory users with roles (ocaml/xapi/xapi_session.ml login_with_password, external
// branch), the permission check every call goes through (ocaml/xapi/rbac.ml check, permission_of_action), the
// static roles (ocaml/xapi/xapi_role.ml, generated rbac_static.ml), and the audit log naming the user
// (ocaml/xapi/rbac_audit.ml audit_line_of, get_subject_identifier/get_subject_name).
import { parseArgs } from "../../simulator/cli";
import { Client, expectError, jsonCall } from "./helpers/rpc";
import { startWithClient } from "./helpers/simulator";
import type { Simulator } from "../../simulator";

let sim: Simulator;
let root: Client;

beforeAll(async () => {
  ({ sim, c: root } = await startWithClient({
    users: ["auditor:audit-pw:read-only", { name: "ops", password: "ops-pw", role: "pool-admin" }],
  }));
});
afterAll(() => sim.close());

const auditLog = async (c: Client) => {
  const res = await fetch(`${sim.url}/audit_log?session_id=${c.session}`);
  expect(res.status).toBe(200);
  return (await res.text()).split("\n").filter(Boolean);
};

describe("directory users and roles", () => {
  it("turns external authentication on and gives each user a subject with its role (xapi_subject.ml create)", async () => {
    const [host] = await root.call<string[]>("host.get_all");
    expect(await root.call("host.get_external_auth_type", host)).toBe("AD");
    const subjects = Object.values(
      await root.call<Record<string, { other_config: Record<string, string>; roles: string[] }>>(
        "subject.get_all_records",
      ),
    );
    const byName = Object.fromEntries(subjects.map((s) => [s.other_config["subject-name"], s]));
    const roleName = (ref: string) => root.call<string>("role.get_name_label", ref);
    expect(await Promise.all(byName.auditor.roles.map(roleName))).toEqual(["read-only"]);
    expect(await Promise.all(byName.ops.roles.map(roleName))).toEqual(["pool-admin"]);
    // Constants.rbac_pool_admin_uuid: pool-admin's fixed UUID, subject.roles' datamodel default.
    expect(byName.ops.roles).toEqual(["OpaqueRef:0165f154-ba3e-034e-6b27-5d271af109ba"]);
  });

  it("logs a read-only user in with a session that is not the local superuser (xapi_session.ml login_no_password_common)", async () => {
    const ro = await new Client(sim.url).login("auditor", "audit-pw", "xen-drift");
    const s = await ro.call<Record<string, unknown>>("session.get_record", ro.session);
    expect(s).toMatchObject({ is_local_superuser: false, auth_user_name: "auditor" });
    expect(s.auth_user_sid).toMatch(/^S-1-5-21-/);
    expect(s.rbac_permissions).toEqual(expect.arrayContaining(["read-only", "vm.get_record", "event.from"]));
    expect(s.rbac_permissions).not.toContain("network.set_mtu");
  });

  it("refuses a wrong directory password and an unknown name as xapi does (SESSION_AUTHENTICATION_FAILED)", async () => {
    await expectError(
      jsonCall(sim.url, "session.login_with_password", ["auditor", "wrong"]),
      "SESSION_AUTHENTICATION_FAILED",
      ["auditor", "Authentication failure"],
    );
    await expectError(
      jsonCall(sim.url, "session.login_with_password", ["nobody", "x"]),
      "SESSION_AUTHENTICATION_FAILED",
      ["nobody", "Authentication failure"],
    );
  });

  it("lets read-only read and watch, and refuses writes with RBAC_PERMISSION_DENIED [permission, roles] (rbac.ml check)", async () => {
    const ro = await new Client(sim.url).login("auditor", "audit-pw");
    const [net] = await ro.call<string[]>("network.get_all");
    expect(typeof (await ro.call<{ MTU: number }>("network.get_record", net)).MTU).toBe("number");
    const token = await ro.call<{ token: string }>("event.from", ["network"], "", 0);
    expect(typeof token.token).toBe("string");
    // permission_of_action: the call's name in lower case; the message names the roles that have it.
    await expectError(ro.call("network.set_MTU", net, 1400), "RBAC_PERMISSION_DENIED", [
      "network.set_mtu",
      "No permission in user session. (Roles with this permission: pool-admin, pool-operator, vm-power-admin, vm-admin)",
    ]);
    const [vm] = await ro.call<string[]>("VM.get_all");
    // An Async call gets its task; the task fails (the check wraps the implementation: gen_server.ml local_op).
    const task = await ro.task("VM.start", vm, false, false);
    expect(task).toMatchObject({ status: "failure" });
    expect((task.error_info as string[])[0]).toBe("RBAC_PERMISSION_DENIED");
  });

  it("lets pool-admin write, with the audit line naming the user and SID; denials are audited as DENIED", async () => {
    const ops = await new Client(sim.url).login("ops", "ops-pw");
    const ro = await new Client(sim.url).login("auditor", "audit-pw");
    const net = await ops.call<string>("network.create", {
      name_label: "rbac-net",
      name_description: "",
      MTU: 1500,
      other_config: {},
      tags: [],
    });
    await ops.call("network.set_MTU", net, 9000);
    await expectError(ro.call("network.set_MTU", net, 1500), "RBAC_PERMISSION_DENIED");
    await ops.call("network.destroy", net);
    const lines = await auditLog(ro); // get_audit_log is _R_READ_ONLY in datamodel.ml http_actions
    const sid = (await ops.call<string>("session.get_auth_user_sid", ops.session)).replace(/'/g, "");
    expect(lines.find((l) => l.includes("'network.set_MTU'") && l.includes("'ALLOWED'"))).toContain(
      `'${sid}' 'ops' 'ALLOWED' 'OK' 'API' 'network.set_MTU'`,
    );
    expect(lines.find((l) => l.includes("'network.set_MTU'") && l.includes("'DENIED'"))).toMatch(
      /'S-1-5-21-[^']+' 'auditor' 'DENIED' '' 'API' 'network.set_MTU'/,
    );
    // A destroy's line keeps the object's name and UUID (rbac_audit.ml allowed_pre_fn caches them).
    expect(lines.find((l) => l.includes("'network.destroy'"))).toMatch(
      /\('self' 'rbac-net' '[0-9a-f-]{36}' 'OpaqueRef:/,
    );
    // The local superuser's lines: LOCAL_SUPERUSER (rbac_audit.ml str_local_superuser).
    await root.call("pool.get_all");
    const [host] = await root.call<string[]>("host.get_all");
    await root.call("host.set_name_description", host, "audited");
    expect((await auditLog(root)).find((l) => l.includes("'host.set_name_description'"))).toContain(
      "'LOCAL_SUPERUSER' 'root' 'ALLOWED' 'OK'",
    );
  });

  it("serves the static roles read-only (xapi_role.ml): composite roles list their permissions as subroles", async () => {
    const composite = await root.call<Record<string, { name_label: string; subroles: string[] }>>(
      "role.get_all_records_where",
      "subroles<>[]",
    );
    expect(Object.values(composite).map((r) => r.name_label)).toEqual([
      "pool-admin",
      "pool-operator",
      "vm-power-admin",
      "vm-admin",
      "vm-operator",
      "client-cert",
      "read-only",
    ]);
    const [ro] = await root.call<string[]>("role.get_by_name_label", "read-only");
    const perms = await root.call<string[]>("role.get_permissions_name_label", ro);
    expect(perms).toContain("vm.get_record");
    expect(perms).not.toContain("vm.start");
  });

  it("adds users through the control API and the CLI option", async () => {
    sim.users.add({ name: "late", password: "p", role: "vm-operator" });
    const late = await new Client(sim.url).login("late", "p");
    const [net] = await late.call<string[]>("network.get_all");
    await expectError(late.call("network.set_name_label", net, "x"), "RBAC_PERMISSION_DENIED");
    expect(sim.users.list()).toEqual(["auditor", "ops", "late"]);
    expect(parseArgs(["--rbac-user", "a:b:read-only"]).users).toEqual(["a:b:read-only"]);
    expect(() => sim.users.add("x:y:superuser")).toThrow(/role "superuser" is not one of pool-admin/);
  });

  it("keeps users across a restart (the subjects are in the DB, the directory in the simulator)", async () => {
    await sim.restart();
    await new Promise((r) => setTimeout(r, 50)); // let the client see its keep-alive sockets closed
    const ro = await new Client(sim.url).login("auditor", "audit-pw");
    await expectError(
      ro.call("pool.set_name_label", (await ro.call<string[]>("pool.get_all"))[0], "x"),
      "RBAC_PERMISSION_DENIED",
    );
    expect(Object.keys(await ro.call("subject.get_all_records"))).toHaveLength(3);
  });
});
