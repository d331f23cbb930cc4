/** XenAPI types as the datamodel spells them ("VM ref set", "(string -> string) map", ...), parsed once. */
export type XType =
  | { kind: "string" | "int" | "float" | "bool" | "datetime" | "void" | "any" }
  | { kind: "ref"; cls: string }
  | { kind: "enum"; name: string }
  | { kind: "set"; of: XType }
  | { kind: "map"; key: XType; value: XType }
  | { kind: "record"; cls: string }
  | { kind: "option"; of: XType }
  | { kind: "eventBatch" };

const cache = new Map<string, XType>();

export function parseType(s: string): XType {
  let t = cache.get(s);
  if (!t) {
    t = parse(s.trim());
    cache.set(s, t);
  }
  return t;
}

function parse(s: string): XType {
  switch (s) {
    case "string":
    case "int":
    case "float":
    case "bool":
    case "datetime":
    case "void":
      return { kind: s };
    case "an event batch":
      return { kind: "eventBatch" };
    case "<class> record":
      return { kind: "any" };
  }
  if (s.startsWith("(")) {
    // "(K -> V) map": find the matching parenthesis.
    let depth = 0;
    for (let i = 0; i < s.length; i++) {
      if (s[i] === "(") depth++;
      else if (s[i] === ")" && --depth === 0) {
        const inner = s.slice(1, i);
        const rest = s.slice(i + 1).trim();
        const arrow = topLevelArrow(inner);
        const map: XType = {
          kind: "map",
          key: parse(inner.slice(0, arrow).trim()),
          value: parse(inner.slice(arrow + 2).trim()),
        };
        return rest === "map" ? map : wrap(map, rest);
      }
    }
  }
  if (s.endsWith(" set")) return { kind: "set", of: parse(s.slice(0, -4)) };
  if (s.endsWith(" option")) return { kind: "option", of: parse(s.slice(0, -7)) };
  if (s.endsWith(" ref")) return { kind: "ref", cls: s.slice(0, -4) };
  if (s.endsWith(" record")) return { kind: "record", cls: s.slice(0, -7) };
  if (s.startsWith("enum ")) return { kind: "enum", name: s.slice(5) };
  throw new Error(`unparseable datamodel type: ${s}`);
}

function wrap(t: XType, rest: string): XType {
  let r = t;
  for (const w of rest.split(/\s+/)) {
    if (w === "set") r = { kind: "set", of: r };
    else if (w === "option") r = { kind: "option", of: r };
    else if (w !== "map") throw new Error(`unparseable type suffix: ${rest}`);
  }
  return r;
}

function topLevelArrow(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length - 1; i++) {
    if (s[i] === "(") depth++;
    else if (s[i] === ")") depth--;
    else if (depth === 0 && s[i] === "-" && s[i + 1] === ">") return i;
  }
  throw new Error(`no arrow in map type: ${s}`);
}
