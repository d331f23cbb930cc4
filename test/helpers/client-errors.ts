/** How the XAPI client suites read a rejection: shared by the unit (stand-in server) and simulator suites. */
import { XapiError, XapiTransportError } from "../../provider/xapi";

/** The rejection of `p`, which must be one of the client's two error classes (anything else is rethrown). */
export async function failure(p: Promise<unknown>): Promise<XapiTransportError | XapiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof XapiTransportError || e instanceof XapiError) return e;
    throw e;
  }
  throw new Error("expected a failure, but the call succeeded");
}

/** The error code of `p`'s rejection. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  return (await failure(p)).code;
}
