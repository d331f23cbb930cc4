// zod pieces shared by the resource schemas.
import { z } from "zod";

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// XAPI looks UUIDs up exactly, and writes them in lowercase: one pasted in capitals is lowercased first.
export const uuid = z
  .string()
  .toLowerCase()
  .regex(uuidPattern, { message: "must be a UUID such as 5b7c7c3e-6f1a-4c7e-9a0e-2f7c9d1e4b21" });
export const stringMap = z.record(z.string(), z.string());
export const tags = z.array(z.string().min(1));

/** Fields every resource has. */
export const common = {
  /** Name of a connection profile under xenserver:pools; the default connection when absent. */
  connection: z.string().min(1).optional(),
  /** Project/stack/name of the Pulumi resource, set by the sdk class (tags the object). */
  identity: z.string().optional(),
};
