// Writes a normalized snapshot of the official TypeScript SDK's DNS-settings models, in the same
// small schema language as extract.py writes for the Python SDK, for
// `cargo run -p xtask -- audit-sdk` (see spec/README.md, "The SDK audit").
//
// Run beside the pinned SDK (.ci/sdk-audit/package.json, package-lock.json):
//
//     node .ci/sdk-audit/extract-ts.mjs > spec/sdk/cloudflare-typescript-<version>.json
//
// or with the directory of another `cloudflare` package as the first argument.
//
// Nothing here names an endpoint. It reads the declarations of ROOTS (every
// `resources/dns/settings/**/*.d.ts` of the SDK, and `resources/zones/zones.d.ts`, whose list of
// zones the fleet reads) with the TypeScript compiler (pinned beside it), and the compiled `.js`
// next to each for what the declarations do not say: each resource method's HTTP verb and path
// template (`this._client.patch(path\`/zones/${zone_id}/dns_settings\`, …)`, or a plain string
// such as `'/zones'`), which of its params are path parameters and whether the rest is sent as
// the body or the query (`const { zone_id, ...body } = params`, or a first parameter named
// `body` or `query` sent whole: `list(query = {}, options)`). Result types come from the declared return type
// (`APIPromise<T>`, or `PagePromise<Page, Item>` for a list: the page's `result` and
// `result_info`). Types are walked through the compiler's checker into:
//
//     {"type": "object", "model": name, "fields": {wire name: {"required": bool, "schema": s}}}
//     {"type": "array", "items": s}
//     {"type": "string" | "number" | "boolean"}      (TypeScript has no integer)
//     {"enum": [values]}          a literal or a union of literals
//     {"oneOf": [s, ...]}         a union of several types
//     any of these with "nullable": true when the type admits null
//
// printed with sorted keys, so that the output depends only on the SDK.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

const METHOD_ORDER = ["GET", "PUT", "POST", "DELETE", "PATCH"];

function fail(message) {
  process.stderr.write(`extract-ts.mjs: ${message}\n`);
  process.exit(2);
}

const sdkDir = process.argv[2]
  ? path.resolve(process.argv[2])
  : path.join(path.dirname(new URL(import.meta.url).pathname), "node_modules", "cloudflare");
const sdkPackage = JSON.parse(fs.readFileSync(path.join(sdkDir, "package.json"), "utf8"));
// The TypeScript compiler installed beside the SDK (sdk-newer installs both), else the pinned one.
let ts;
try {
  ts = createRequire(path.join(sdkDir, "package.json"))("typescript");
} catch {
  ts = require("typescript");
}
// The SDK's declarations read: a folder is read whole, a file alone. An operation read here that
// spec/ does not have is a difference the audit reports (and spec/sdk-audit.json explains).
const ROOTS = ["resources/dns/settings", "resources/zones/zones.d.ts"];

function filesUnder(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
}
const declarations = ROOTS.flatMap((root) => {
  const at = path.join(sdkDir, ...root.split("/"));
  if (!fs.existsSync(at)) fail(`${at} does not exist`);
  return fs.statSync(at).isDirectory() ? filesUnder(at).filter((f) => f.endsWith(".d.ts")) : [at];
});

const program = ts.createProgram(declarations, {
  noEmit: true,
  strict: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2020,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
});
const checker = program.getTypeChecker();

// `viewID` → `view_id`: the SDK's camelCase path parameters under the spec's names.
const snake = (name) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

function schemaOf(type, seen) {
  const F = ts.TypeFlags;
  if (type.isUnion()) {
    const nullable = type.types.some((t) => t.flags & F.Null);
    let parts = type.types.filter((t) => !(t.flags & (F.Null | F.Undefined)));
    // `boolean` is the union `true | false`.
    const bools = parts.filter((t) => t.flags & F.BooleanLiteral);
    let out;
    if (bools.length === 2) {
      parts = parts.filter((t) => !(t.flags & F.BooleanLiteral));
      parts.push("boolean");
    }
    const literal = (t) => t !== "boolean" && t.flags & (F.StringLiteral | F.NumberLiteral | F.BooleanLiteral);
    if (parts.length === 1) {
      out = parts[0] === "boolean" ? { type: "boolean" } : schemaOf(parts[0], seen);
    } else if (parts.length > 0 && parts.every(literal)) {
      out = { enum: parts.map(literalValue) };
    } else {
      out = { oneOf: parts.map((t) => (t === "boolean" ? { type: "boolean" } : schemaOf(t, seen))) };
    }
    if (nullable) out.nullable = true;
    return out;
  }
  if (type.flags & (F.StringLiteral | F.NumberLiteral | F.BooleanLiteral)) {
    return { enum: [literalValue(type)] };
  }
  if (type.flags & F.String) return { type: "string" };
  if (type.flags & F.Number) return { type: "number" };
  if (type.flags & F.Boolean) return { type: "boolean" };
  if (type.flags & (F.Any | F.Unknown)) return {};
  if (checker.isArrayType(type)) {
    return { type: "array", items: schemaOf(checker.getTypeArguments(type)[0], seen) };
  }
  if (type.flags & F.Object) {
    if (seen.has(type)) fail(`${checker.typeToString(type)} is recursive`);
    const inner = new Set(seen).add(type);
    const index = checker.getIndexTypeOfType(type, ts.IndexKind.String);
    const properties = checker.getPropertiesOfType(type);
    if (index && properties.length === 0) {
      return { type: "object", additionalProperties: schemaOf(index, inner) };
    }
    const fields = {};
    for (const property of properties) {
      const optional = (property.flags & ts.SymbolFlags.Optional) !== 0;
      fields[property.name] = {
        required: !optional,
        schema: schemaOf(checker.getTypeOfSymbol(property), inner),
      };
    }
    const name = type.aliasSymbol?.name ?? type.symbol?.name;
    const out = { type: "object", fields };
    if (name && name !== "__type") out.model = name;
    return out;
  }
  fail(`no rule for the type ${checker.typeToString(type)}`);
}

function literalValue(type) {
  if (type.flags & ts.TypeFlags.BooleanLiteral) return checker.typeToString(type) === "true";
  return type.value;
}

// What the compiled `.js` says of each method of each class: verb, path, parameters.
function calls(jsFile) {
  const out = new Map();
  const source = ts.createSourceFile(jsFile, fs.readFileSync(jsFile, "utf8"), ts.ScriptTarget.ES2020, true);
  const visit = (node) => {
    if (ts.isMethodDeclaration(node) && ts.isClassLike(node.parent) && node.parent.name) {
      const found = { rest: null, destructured: [] };
      const inside = (n) => {
        if (ts.isVariableDeclaration(n) && ts.isObjectBindingPattern(n.name) && n.initializer?.getText() === "params") {
          for (const element of n.name.elements) {
            if (element.dotDotDotToken) found.rest = element.name.getText();
            else found.destructured.push(element.name.getText());
          }
        }
        if (
          ts.isCallExpression(n) &&
          ts.isPropertyAccessExpression(n.expression) &&
          n.expression.expression.getText() === "this._client" &&
          !found.verb
        ) {
          const template = n.arguments[0];
          if (template && ts.isStringLiteral(template)) {
            // A path without parameters (`'/zones'`) is a plain string.
            const verb = n.expression.name.getText();
            found.verb = verb === "getAPIList" ? "get" : verb;
            found.list = verb === "getAPIList";
            found.path = template.text;
            found.pathParameters = [];
          } else if (template && ts.isTaggedTemplateExpression(template)) {
            const t = template.template;
            let text;
            const names = [];
            if (ts.isNoSubstitutionTemplateLiteral(t)) text = t.text;
            else {
              text = t.head.text;
              for (const span of t.templateSpans) {
                const name = snake(span.expression.getText());
                names.push(name);
                text += `{${name}}${span.literal.text}`;
              }
            }
            const verb = n.expression.name.getText();
            found.verb = verb === "getAPIList" ? "get" : verb;
            found.list = verb === "getAPIList";
            found.path = text;
            found.pathParameters = names;
          }
        }
        ts.forEachChild(n, inside);
      };
      inside(node);
      if (found.verb) out.set(`${node.parent.name.getText()}.${node.name.getText()}`, found);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

// The fields of a params type, without the path parameters; a query flattened with dots.
function paramsFields(type, without) {
  const schema = schemaOf(type, new Set());
  const fields = {};
  for (const [name, field] of Object.entries(schema.fields ?? {})) {
    if (!without.includes(name)) fields[name] = field;
  }
  return { type: "object", model: schema.model, fields };
}

function flattenQuery(schema, prefix = "") {
  const out = {};
  for (const [name, field] of Object.entries(schema.fields)) {
    const inner = field.schema;
    if (inner.type === "object" && inner.fields) Object.assign(out, flattenQuery(inner, `${prefix}${name}.`));
    else out[`${prefix}${name}`] = field;
  }
  return out;
}

const operations = [];
for (const file of declarations) {
  const jsFile = file.replace(/\.d\.ts$/, ".js");
  if (!fs.existsSync(jsFile)) continue;
  const implementations = calls(jsFile);
  const source = program.getSourceFile(file);
  const relative = path.relative(path.join(sdkDir, "resources"), file).replace(/\.d\.ts$/, "").split(path.sep).join(".");
  for (const statement of source.statements) {
    if (!ts.isClassDeclaration(statement) || !statement.name) continue;
    for (const member of statement.members) {
      if (!ts.isMethodDeclaration(member) || !member.name) continue;
      const key = `${statement.name.text}.${member.name.getText()}`;
      const call = implementations.get(key);
      if (!call) continue;
      const returns = member.type;
      if (!returns || !ts.isTypeReferenceNode(returns) || !returns.typeArguments) {
        fail(`${key}: the return type is not APIPromise<T> or PagePromise<P, T>`);
      }
      const pathParameters = [...call.destructured.map(snake), ...call.pathParameters].filter(
        (p, i, all) => call.pathParameters.includes(p) && all.indexOf(p) === i,
      );
      const params = member.parameters.find((p) => p.name.getText() === "params");
      // A first parameter named `body` or `query` is sent whole, as what it is named.
      const whole = member.parameters.find((p) => ["body", "query"].includes(p.name.getText()));
      let body = null;
      let query = null;
      if (whole) {
        const fields = paramsFields(checker.getTypeAtLocation(whole), []);
        if (whole.name.getText() === "body") body = fields;
        else query = flattenQuery(fields);
      } else if (params && call.rest) {
        const type = checker.getTypeAtLocation(params);
        const fields = paramsFields(type, call.destructured);
        if (call.rest === "body") body = fields;
        else if (call.rest === "query") query = flattenQuery(fields);
        else fail(`${key}: params rest is \`${call.rest}\`, neither body nor query`);
      }
      const response = {};
      if (call.list) {
        const page = checker.getTypeFromTypeNode(returns.typeArguments[0]);
        for (const name of ["result", "result_info"]) {
          const property = checker.getPropertyOfType(page, name);
          if (!property) fail(`${key}: the page type has no \`${name}\``);
          response[name] = {
            required: (property.flags & ts.SymbolFlags.Optional) === 0,
            schema: schemaOf(checker.getTypeOfSymbol(property), new Set()),
          };
        }
      } else {
        const result = checker.getTypeFromTypeNode(returns.typeArguments[0]);
        response.result = { required: true, schema: schemaOf(result, new Set()) };
      }
      operations.push({
        method: call.verb.toUpperCase(),
        path: call.path,
        path_parameters: [...call.pathParameters].sort(),
        query: query && Object.keys(query).length ? query : null,
        body,
        response,
        paged: call.list,
        sdk: `${relative}.${key}`,
      });
    }
  }
}
if (operations.length === 0) fail(`found no operation under ${ROOTS.join(", ")}`);
operations.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method)));

const snapshot = {
  provenance: {
    package: "cloudflare",
    version: sdkPackage.version,
    registry: "npm",
    models: "resources/dns/settings/**/*.d.ts and resources/zones/zones.d.ts (interfaces and the methods' declared types), with the verbs and paths of the compiled .js beside them",
    made_by: ".ci/sdk-audit/extract-ts.mjs beside the packages of .ci/sdk-audit/package.json; never edit by hand (spec/README.md, \"The SDK audit\")",
  },
  operations,
};

function sorted(value) {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted(value[k])]));
  }
  return value;
}
process.stdout.write(JSON.stringify(sorted(snapshot), null, 2) + "\n");
