/** The package version, read at run time so the compiled client reports the version it ships in. */
function readVersion(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      return (require(rel) as { version: string }).version;
    } catch {
      // not at this depth (sources vs compiled output)
    }
  }
  return "0.0.0";
}

export const VERSION: string = readVersion();

/** Sent as the session originator and the HTTP User-Agent, so pool admins can tell our sessions apart. */
export const USER_AGENT = `pulumi-xenserver/${VERSION}`;
