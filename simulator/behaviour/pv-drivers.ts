/** What xapi makes of a guest's PV driver version (xapi_pv_driver_version.ml). */
import { Row } from "../engine/store";

/**
 * get_drivers_version: a version is known when major and minor (and micro, build when present) parse as
 * integers; anything else is Unknown, which xapi treats as "no PV drivers" (has_pv_drivers).
 */
export function pvDriversKnown(gm: Row | undefined): boolean {
  if (!gm) return false;
  const v = gm.PV_drivers_version as Record<string, string>;
  const int = (s: string | undefined) => s !== undefined && /^[-+]?\d+$/.test(s);
  return (
    int(v.major) && int(v.minor) && (v.micro === undefined || int(v.micro)) && (v.build === undefined || int(v.build))
  );
}
