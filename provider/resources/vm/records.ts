// The XAPI records the Vm resource reads: the generated types (provider/xapi/generated), under the names vm/ uses.
export { NULL_REF } from "../../xapi";
export type { VMRecord, VBDRecord, VIFRecord, VDIRecord, VMGuestMetricsRecord as GuestMetricsRecord } from "../../xapi";
