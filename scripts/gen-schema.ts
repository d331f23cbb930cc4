// Writes schema.json (the Pulumi package schema) from the resources' zod schemas,
// the single source of truth. `--check` fails when the committed file is stale.
// Run with: npm run gen:schema (after npm run build).
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import * as network from "../provider/resources/network";
import * as pool from "../provider/resources/pool";
import * as sr from "../provider/resources/sr";
import * as vdi from "../provider/resources/vdi";
import * as vm from "../provider/resources/vm/inputs";

type Json = Record<string, unknown>;
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

const pkg = "xenserver";
const resources: Record<string, { mod: { inputSchema: z.ZodObject; outputSchema: z.ZodObject }; description: string }> =
  {
    Pool: {
      mod: pool,
      description:
        "The pool the connection points at, adopted (pools cannot be created through the API). Deleting it leaves the pool as it is.",
    },
    Network: {
      mod: network,
      description: "A network: private, VLAN (on a NIC of every host) or bond (over NICs of every host).",
    },
    Sr: {
      mod: sr,
      description:
        "A storage repository, created (formatted) or attached (introduced, no data touched). Delete forgets it unless destroyOnDelete.",
    },
    Vdi: {
      mod: vdi,
      description:
        "A virtual disk, empty or uploaded from a local raw/VHD image. Grows in place; shrinking is refused.",
    },
    Vm: {
      mod: vm,
      description:
        "A VM cloned from a template: CPU, memory, disks, NICs, CD, firmware, cloud-init, power state and guest " +
        "addresses. Changes are hot, cold (restart) or replace, said at preview.",
    },
  };

const types: Record<string, Json> = {};

function pulumiType(s: JsonSchema, owner: string, prop: string): Json {
  const base: Json = {};
  if (s.description) base.description = s.description;
  if (s.anyOf) {
    return { ...base, oneOf: s.anyOf.map((a) => pulumiType(a, owner, prop)) };
  }
  if (s.enum)
    return {
      ...base,
      type: "string",
      description: `${s.description ?? ""} (one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")})`.trim(),
    };
  switch (s.type) {
    case "string":
    case "boolean":
    case "integer":
      return { ...base, type: s.type };
    case "number":
      return { ...base, type: "number" };
    case "array":
      return { ...base, type: "array", items: pulumiType(s.items ?? {}, owner, prop) };
    case "object":
      if (s.properties) {
        const token = `${pkg}:index:${owner}${prop[0].toUpperCase()}${prop.slice(1)}`;
        types[token] = {
          type: "object",
          description: s.description,
          properties: Object.fromEntries(
            Object.entries(s.properties).map(([k, v]) => [
              k,
              pulumiType(v, owner, prop + k[0].toUpperCase() + k.slice(1)),
            ]),
          ),
          required: (s.required ?? []).filter((r) => !(s.properties?.[r]?.default !== undefined)),
        };
        return { ...base, $ref: `#/types/${token}` };
      }
      return {
        ...base,
        type: "object",
        additionalProperties: pulumiType(
          typeof s.additionalProperties === "object" ? s.additionalProperties : { type: "string" },
          owner,
          prop,
        ),
      };
    default:
      return { ...base, $ref: "pulumi.json#/Any" };
  }
}

function properties(
  schema: z.ZodObject,
  owner: string,
  io: "input" | "output",
): { props: Record<string, Json>; required: string[] } {
  const js = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  const props: Record<string, Json> = {};
  for (const [k, v] of Object.entries(js.properties ?? {})) {
    if (k === "identity") continue; // set by the sdk
    props[k] = pulumiType(v, owner, k);
  }
  return { props, required: (js.required ?? []).filter((r) => r !== "identity") };
}

export function buildSchema(): Json {
  const out: Json = {
    name: pkg,
    displayName: "XenServer / XCP-ng",
    version: JSON.parse(fs.readFileSync(path.join(__dirname, "../../package.json"), "utf8")).version,
    description: "Manage XenServer / XCP-ng pools, networks, storage, disks and VMs as code.",
    keywords: ["pulumi", "xenserver", "xcp-ng", "xapi", "category/infrastructure"],
    license: "Apache-2.0",
    repository: "https://github.com/pulumi-xenserver/pulumi-xenserver",
    meta: { moduleFormat: "(.*)" },
    config: {
      variables: {
        url: {
          type: "string",
          description: "URL of the pool master (https://host); env XENSERVER_URL or XENSERVER_HOST",
        },
        username: { type: "string", description: "XAPI user; env XENSERVER_USERNAME" },
        password: {
          type: "string",
          secret: true,
          description: "XAPI password (set with --secret); env XENSERVER_PASSWORD",
        },
        tlsFingerprint: { type: "string", description: "SHA-256 fingerprint of the pool's TLS certificate to pin" },
        caCert: { type: "string", description: "PEM CA bundle to verify the pool's certificate" },
        insecure: { type: "boolean", description: "turn TLS verification off (a warning is logged on every use)" },
        pools: {
          type: "object",
          additionalProperties: { $ref: "pulumi.json#/Any" },
          description:
            "named connection profiles: { <name>: { url, username, password, tlsFingerprint, caCert, insecure } }",
        },
      },
    },
    resources: {} as Json,
    types,
    language: { nodejs: { packageName: "pulumi-xenserver", dependencies: { "@pulumi/pulumi": "^3.270.0" } } },
  };
  for (const [name, { mod, description }] of Object.entries(resources)) {
    const inputs = properties(mod.inputSchema, name, "input");
    const outs = properties(mod.inputSchema.extend(mod.outputSchema.shape), name, "output");
    (out.resources as Json)[`${pkg}:index:${name}`] = {
      description,
      inputProperties: inputs.props,
      requiredInputs: inputs.required,
      properties: outs.props,
      required: ["uuid"],
    };
  }
  return out;
}

if (require.main === module) {
  const file = path.join(__dirname, "../../schema.json");
  const text = JSON.stringify(buildSchema(), null, 2) + "\n";
  if (process.argv.includes("--check")) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    if (current !== text) {
      console.error("schema.json is stale: run `npm run gen:schema` and commit it");
      process.exit(1);
    }
    console.log("schema.json is current");
  } else {
    fs.writeFileSync(file, text);
    console.log(`wrote ${file}`);
  }
}
