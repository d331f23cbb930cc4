/** Pool member addresses as xapi reports them (HOST_IS_SLAVE, host.address) become URLs (docs/xapi-semantics.md §2.1). */
import { memberUrl, parseXapiUrl } from "../../../provider/xapi/session";

const base = new URL("https://xen1.example:8443/");

describe("member URLs", () => {
  it("keeps the scheme and port of the URL in use for a bare IPv4 address or host name", () => {
    expect(memberUrl("192.0.2.10", base).origin).toBe("https://192.0.2.10:8443");
    expect(memberUrl("xen2.example", base).origin).toBe("https://xen2.example:8443");
  });
  it("brackets an IPv6 address, which xapi sends unbracketed", () => {
    expect(memberUrl("2001:db8::10", base).origin).toBe("https://[2001:db8::10]:8443");
    expect(memberUrl("[2001:db8::10]", base).origin).toBe("https://[2001:db8::10]:8443");
  });
  it("uses a port given with the address", () => {
    expect(memberUrl("127.0.0.1:4431", base).origin).toBe("https://127.0.0.1:4431");
    expect(memberUrl("[2001:db8::10]:4431", base).origin).toBe("https://[2001:db8::10]:4431");
  });
});

describe("connect URLs", () => {
  it("defaults a bare host to https", () => {
    expect(parseXapiUrl("xen1.example").origin).toBe("https://xen1.example");
  });
  it("accepts http for labs and the simulator", () => {
    expect(parseXapiUrl("http://127.0.0.1:8080").origin).toBe("http://127.0.0.1:8080");
  });
  it.each(["https://", "ftp://xen", "https://u:p@xen", "http://exa mple"])("rejects %s", (u) => {
    expect(() => parseXapiUrl(u)).toThrow(expect.objectContaining({ code: "XAPI_INVALID_URL" }));
  });
});
