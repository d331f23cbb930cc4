/** The fast XML-RPC reader and the general parser (fast-xml-parser) must read every document the same way. */
import { decodeXmlResponse, decodeXmlResponseGeneral } from "../../../provider/xapi/codec-xmlrpc";
import { scanMethodResponseValue } from "../../../provider/xapi/xmlrpc-scanner";

const wrap = (value: string): string =>
  `<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>Status</name>` +
  `<value>Success</value></member><member><name>Value</name>${value}</member></struct></value></param>` +
  `</params></methodResponse>`;

const values: [string, string][] = [
  ["untyped string", "<value>web-01</value>"],
  ["untyped int", "<value>4294967296</value>"],
  ["empty value", "<value></value>"],
  ["self-closing value", "<value/>"],
  ["typed string", "<value><string>a b</string></value>"],
  ["empty typed string", "<value><string/></value>"],
  [
    "int, i4, i8",
    "<value><array><data><value><int>1</int></value><value><i4>-2</i4></value><value><i8>9007199254740991</i8></value></data></array></value>",
  ],
  [
    "booleans",
    "<value><array><data><value><boolean>1</boolean></value><value><boolean>0</boolean></value></data></array></value>",
  ],
  [
    "doubles",
    "<value><array><data><value><double>1</double></value><value><double>0.25</double></value><value><double>-1e-07</double></value></data></array></value>",
  ],
  ["datetime", "<value><dateTime.iso8601>20250319T04:16:24Z</dateTime.iso8601></value>"],
  [
    "empty array and struct",
    "<value><array><data><value><array><data></data></array></value><value><array><data/></array></value>" +
      "<value><struct></struct></value></data></array></value>",
  ],
  [
    "nested maps",
    "<value><struct><member><name>a</name><value><struct><member><name>b</name><value><struct><member>" +
      "<name>c</name><value>d</value></member></struct></value></member></struct></value></member></struct>" +
      "</value>",
  ],
  ["escapes", "<value>&lt;tag&gt; &amp; &quot;q&quot; &apos;a&apos; &#233; &#x65E5;</value>"],
  ["non-ASCII text", "<value>Ünïcödé 日本語 🚀</value>"],
  ["whitespace kept in strings", "<value>  two  spaces  </value>"],
  [
    "pretty-printed",
    "<value>\n  <struct>\n    <member>\n      <name>k</name>\n      <value>v</value>\n    </member>\n  </struct>\n</value>",
  ],
  ["__proto__ key", "<value><struct><member><name>__proto__</name><value>x</value></member></struct></value>"],
];

describe("fast XML-RPC reader", () => {
  it.each(values)("reads %s exactly as the general parser does", (_name, value) => {
    const body = wrap(value);
    expect(scanMethodResponseValue(body)).toBeDefined();
    expect(decodeXmlResponse(body)).toEqual(decodeXmlResponseGeneral(body));
  });

  it.each([
    ["CDATA", "<value><![CDATA[a<b]]></value>", "a<b"],
    ["a comment", "<value><!-- note -->x</value>", "x"],
    ["an HTML entity", "<value>a&nbsp;b</value>", "a\u00a0b"],
  ])("leaves %s to the general parser", (_name, value, expected) => {
    const body = wrap(value);
    expect(scanMethodResponseValue(body)).toBeUndefined();
    expect(decodeXmlResponse(body)).toEqual({ ok: true, value: expected });
  });
});
