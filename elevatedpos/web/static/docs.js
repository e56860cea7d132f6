/*
 * ElevatedPOS API reference viewer.
 *
 * Self-contained and offline: fetches the OpenAPI 3.1 document from the same
 * origin and renders it with plain DOM calls. Every piece of text taken from
 * the document goes in through textContent / createTextNode, never innerHTML.
 */
(function () {
  "use strict";

  const SPEC_URL = "/api/v1/openapi.json";
  const METHODS = ["get", "put", "post", "patch", "delete", "options", "head", "trace"];
  const MAX_DEPTH = 12;

  let spec = null;

  // ---------------------------------------------------------------- DOM helpers

  /** Create an element; attrs are set as properties/attributes, children may be strings. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  /** Render a short literal (enum value, default, example) as compact JSON text. */
  function literal(value) {
    try {
      const text = JSON.stringify(value);
      return text === undefined ? String(value) : text;
    } catch (_err) {
      return String(value);
    }
  }

  /**
   * Very small, safe text formatter for descriptions: blank lines make
   * paragraphs, lines starting with "- " or "* " make lists, `code` spans
   * become <code>. No HTML is ever interpreted.
   */
  function richText(text, className) {
    const box = el("div", { class: "prose" + (className ? " " + className : "") });
    if (typeof text !== "string" || !text.trim()) return box;
    const blocks = text.replace(/\r\n?/g, "\n").split(/\n\s*\n/);
    for (const block of blocks) {
      const lines = block.split("\n").filter((line) => line.trim() !== "");
      if (!lines.length) continue;
      if (lines.every((line) => /^\s*[-*]\s+/.test(line))) {
        const list = el("ul");
        for (const line of lines) list.appendChild(inline(el("li"), line.replace(/^\s*[-*]\s+/, "")));
        box.appendChild(list);
      } else {
        box.appendChild(inline(el("p"), lines.join(" ")));
      }
    }
    return box;
  }

  function inline(node, text) {
    const parts = text.split(/(`[^`]+`)/);
    for (const part of parts) {
      if (part.length > 2 && part.startsWith("`") && part.endsWith("`")) {
        node.appendChild(el("code", { text: part.slice(1, -1) }));
      } else if (part) {
        node.appendChild(document.createTextNode(part));
      }
    }
    return node;
  }

  function slug(text) {
    return String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "x";
  }

  const usedIds = new Set();
  function uniqueId(base) {
    let id = base;
    let n = 2;
    while (usedIds.has(id)) id = base + "-" + n++;
    usedIds.add(id);
    return id;
  }

  // ---------------------------------------------------------------- $ref handling

  /** Resolve a local JSON pointer ("#/components/schemas/X"); undefined if it can't. */
  function resolvePointer(ref) {
    if (typeof ref !== "string" || !ref.startsWith("#")) return undefined;
    const tokens = ref.slice(1).split("/").filter((t, i) => !(i === 0 && t === ""));
    let node = spec;
    for (const raw of tokens) {
      const token = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
      if (node === null || typeof node !== "object" || !(token in node)) return undefined;
      node = node[token];
    }
    return node;
  }

  /** Follow $ref chains on a non-schema object (parameter, response, request body). */
  function deref(obj) {
    const seen = new Set();
    while (isObject(obj) && typeof obj.$ref === "string") {
      if (seen.has(obj.$ref)) return {};
      seen.add(obj.$ref);
      const target = resolvePointer(obj.$ref);
      if (target === undefined) return obj;
      obj = target;
    }
    return obj;
  }

  function refName(ref) {
    const parts = String(ref).split("/");
    return decodeURIComponent(parts[parts.length - 1]).replace(/~1/g, "/").replace(/~0/g, "~");
  }

  function schemaAnchor(ref) {
    const prefix = "#/components/schemas/";
    return typeof ref === "string" && ref.startsWith(prefix) ? "schema-" + slug(refName(ref)) : null;
  }

  // ---------------------------------------------------------------- schema summaries

  function isNullSchema(schema) {
    return isObject(schema) && (schema.type === "null" || (Array.isArray(schema.type) && schema.type.length === 1 && schema.type[0] === "null") || ("const" in schema && schema.const === null));
  }

  /** Split a schema into its non-null part and whether it is nullable. */
  function nullability(schema) {
    if (!isObject(schema)) return { core: schema, nullable: false, variants: null };
    if (Array.isArray(schema.type) && schema.type.includes("null")) {
      const rest = schema.type.filter((t) => t !== "null");
      return { core: Object.assign({}, schema, { type: rest.length === 1 ? rest[0] : rest }), nullable: true, variants: null };
    }
    for (const key of ["oneOf", "anyOf"]) {
      const list = schema[key];
      if (Array.isArray(list) && list.some(isNullSchema)) {
        const others = list.filter((s) => !isNullSchema(s));
        if (others.length === 1) {
          // "X or null": render X itself, flagged nullable.
          return { core: others[0], nullable: true, variants: null, single: others[0] };
        }
        return { core: schema, nullable: true, variants: { key, list: others } };
      }
    }
    if (schema.nullable === true) return { core: schema, nullable: true, variants: null };
    return { core: schema, nullable: false, variants: null };
  }

  /** A one-line type label, e.g. "array<Item>", "string (date-time)", "Customer | null". */
  function typeLabel(schema, depth) {
    depth = depth || 0;
    if (schema === true || schema === undefined) return "any";
    if (schema === false) return "never";
    if (!isObject(schema) || depth > 6) return "any";
    if (typeof schema.$ref === "string") return refName(schema.$ref);
    const info = nullability(schema);
    if (info.nullable) {
      if (info.single) return typeLabel(info.single, depth + 1) + " | null";
      if (info.variants) return info.variants.list.map((s) => typeLabel(s, depth + 1)).join(" | ") + " | null";
      const inner = Object.assign({}, info.core);
      delete inner.nullable;
      return typeLabel(inner, depth + 1) + " | null";
    }
    if ("const" in schema) return "const " + literal(schema.const);
    for (const key of ["oneOf", "anyOf"]) {
      if (Array.isArray(schema[key]) && schema[key].length) {
        return schema[key].map((s) => typeLabel(s, depth + 1)).join(" | ");
      }
    }
    if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && !schema.type) return typeLabel(schema.allOf[0], depth + 1);
    if (Array.isArray(schema.allOf) && schema.allOf.length) return schema.allOf.map((s) => typeLabel(s, depth + 1)).join(" & ");
    let type = schema.type;
    if (Array.isArray(type)) return type.join(" | ");
    if (!type) {
      if (schema.properties || schema.additionalProperties !== undefined) type = "object";
      else if (schema.items) type = "array";
      else if (Array.isArray(schema.enum)) type = "enum";
      else return "any";
    }
    if (type === "array") {
      if (Array.isArray(schema.prefixItems)) return "[" + schema.prefixItems.map((s) => typeLabel(s, depth + 1)).join(", ") + "]";
      return "array<" + typeLabel(schema.items, depth + 1) + ">";
    }
    if (type === "object" && !schema.properties && isObject(schema.additionalProperties)) {
      return "map<string, " + typeLabel(schema.additionalProperties, depth + 1) + ">";
    }
    return schema.format ? type + " (" + schema.format + ")" : type;
  }

  // ---------------------------------------------------------------- schema tree

  const CONSTRAINTS = [
    ["format", "format"], ["pattern", "pattern"], ["minLength", "min length"], ["maxLength", "max length"],
    ["minimum", "≥"], ["maximum", "≤"], ["exclusiveMinimum", ">"], ["exclusiveMaximum", "<"],
    ["multipleOf", "multiple of"], ["minItems", "min items"], ["maxItems", "max items"],
    ["uniqueItems", "unique items"], ["minProperties", "min properties"], ["maxProperties", "max properties"],
    ["default", "default"], ["example", "example"], ["contentMediaType", "content type"],
  ];

  /**
   * Render a schema as a nested tree. `stack` holds the $refs being expanded
   * on the current path, so a recursive schema renders a back-reference
   * instead of looping forever.
   */
  function renderSchema(schema, stack, depth) {
    stack = stack || [];
    depth = depth || 0;
    const box = el("div", { class: "schema" });

    if (schema === undefined || schema === true || (isObject(schema) && Object.keys(schema).length === 0)) {
      box.appendChild(el("span", { class: "type", text: "any" }));
      return box;
    }
    if (schema === false) {
      box.appendChild(el("span", { class: "type", text: "never" }));
      return box;
    }
    if (!isObject(schema)) {
      box.appendChild(el("span", { class: "type", text: "any" }));
      return box;
    }

    if (typeof schema.$ref === "string") {
      const ref = schema.$ref;
      const anchor = schemaAnchor(ref);
      const head = el("span", { class: "schema-head" },
        anchor ? el("a", { class: "ref", href: "#" + anchor, text: refName(ref) }) : el("span", { class: "ref", text: refName(ref) }));
      const desc = schema.description ? richText(schema.description, "schema-desc") : null;
      const target = stack.includes(ref) ? undefined : resolvePointer(ref);
      if (stack.includes(ref)) {
        head.appendChild(el("span", { class: "tag recursive", title: "Already expanded above", text: "recursive" }));
      } else if (target === undefined) {
        head.appendChild(el("span", { class: "tag unresolved", text: "unresolved $ref" }));
      }
      if (target === undefined || depth >= MAX_DEPTH) {
        append(box, [el("div", { class: "schema-head" }, head), desc]);
        return box;
      }
      const inner = renderSchema(target, stack.concat([ref]), depth + 1);
      inner.classList.add("schema-ref-body");
      if (hasStructure(target)) {
        // Objects and composites collapse behind the reference name; shallow ones start open.
        const details = el("details", { class: "expand" }, el("summary", null, head), desc, inner);
        if (depth < 2) details.open = true;
        box.appendChild(details);
      } else {
        append(box, [el("div", { class: "schema-head" }, head), desc, inner]);
      }
      return box;
    }

    const info = nullability(schema);
    const head = el("div", { class: "schema-head" }, el("span", { class: "type", text: typeLabel(schema) }));
    if (info.nullable) head.appendChild(el("span", { class: "tag nullable", text: "nullable" }));
    if (schema.readOnly) head.appendChild(el("span", { class: "tag", text: "read-only" }));
    if (schema.writeOnly) head.appendChild(el("span", { class: "tag", text: "write-only" }));
    if (schema.deprecated) head.appendChild(el("span", { class: "tag deprecated", text: "deprecated" }));
    box.appendChild(head);
    if (schema.title && depth === 0) box.appendChild(el("div", { class: "schema-title", text: schema.title }));
    if (schema.description) box.appendChild(richText(schema.description, "schema-desc"));

    appendConstraints(box, schema);

    // Nullable wrapper around a single variant (oneOf: [X, {type: null}]): render X.
    if (info.single) {
      box.appendChild(renderSchema(info.single, stack, depth + 1));
      return box;
    }

    for (const key of ["oneOf", "anyOf", "allOf"]) {
      const list = info.variants && info.variants.key === key ? info.variants.list : schema[key];
      if (!Array.isArray(list) || !list.length) continue;
      const label = { oneOf: "one of", anyOf: "any of", allOf: "all of" }[key];
      const variants = el("div", { class: "variants" }, el("div", { class: "variants-label", text: label }));
      list.forEach((variant, i) => {
        variants.appendChild(el("div", { class: "variant" },
          el("span", { class: "variant-index", text: String(i + 1) }),
          renderSchema(variant, stack, depth + 1)));
      });
      box.appendChild(variants);
    }
    if (isObject(schema.discriminator) && schema.discriminator.propertyName) {
      box.appendChild(el("div", { class: "constraint" }, "discriminator: ", el("code", { text: schema.discriminator.propertyName })));
    }
    if (isObject(schema.not)) {
      box.appendChild(el("div", { class: "variants" }, el("div", { class: "variants-label", text: "not" }), renderSchema(schema.not, stack, depth + 1)));
    }

    if (isObject(schema.properties) && Object.keys(schema.properties).length) {
      const required = new Set(Array.isArray(schema.required) ? schema.required : []);
      const props = el("ul", { class: "props" });
      for (const [name, propSchema] of Object.entries(schema.properties)) {
        const row = el("li", { class: "prop" });
        const nameLine = el("div", { class: "prop-name" }, el("code", { text: name }));
        if (required.has(name)) nameLine.appendChild(el("span", { class: "required", title: "required", text: "required" }));
        else nameLine.appendChild(el("span", { class: "optional", text: "optional" }));
        row.appendChild(nameLine);
        row.appendChild(depth >= MAX_DEPTH ? el("span", { class: "type", text: typeLabel(propSchema) }) : renderSchema(propSchema, stack, depth + 1));
        props.appendChild(row);
      }
      box.appendChild(props);
    }
    if (schema.additionalProperties !== undefined && schema.additionalProperties !== true) {
      if (schema.additionalProperties === false) {
        box.appendChild(el("div", { class: "constraint muted", text: "no additional properties" }));
      } else if (isObject(schema.additionalProperties) && (schema.properties || hasStructure(schema.additionalProperties))) {
        box.appendChild(el("div", { class: "sub" }, el("div", { class: "sub-label", text: "additional properties" }),
          renderSchema(schema.additionalProperties, stack, depth + 1)));
      }
    }

    if (Array.isArray(schema.prefixItems)) {
      const sub = el("div", { class: "sub" }, el("div", { class: "sub-label", text: "tuple items" }));
      schema.prefixItems.forEach((item) => sub.appendChild(renderSchema(item, stack, depth + 1)));
      box.appendChild(sub);
    }
    if (schema.items !== undefined && schema.items !== false && hasStructure(schema.items)) {
      box.appendChild(el("div", { class: "sub" }, el("div", { class: "sub-label", text: "items" }),
        renderSchema(schema.items, stack, depth + 1)));
    } else if (isObject(schema.items) && (schema.items.enum || schema.items.description)) {
      box.appendChild(el("div", { class: "sub" }, el("div", { class: "sub-label", text: "items" }),
        renderSchema(schema.items, stack, depth + 1)));
    }
    return box;
  }

  /** Does a schema have anything worth expanding (properties, refs, variants...)? */
  function hasStructure(schema) {
    if (!isObject(schema)) return false;
    return Boolean(schema.$ref || schema.properties || schema.oneOf || schema.anyOf || schema.allOf ||
      schema.prefixItems || (isObject(schema.items) && hasStructure(schema.items)) ||
      (isObject(schema.additionalProperties) && hasStructure(schema.additionalProperties)));
  }

  function appendConstraints(box, schema) {
    if (Array.isArray(schema.enum)) {
      const values = el("div", { class: "enum" }, el("span", { class: "enum-label", text: "enum" }));
      for (const value of schema.enum) values.appendChild(el("code", { class: "enum-value", text: literal(value) }));
      box.appendChild(values);
    }
    const bits = [];
    for (const [key, label] of CONSTRAINTS) {
      if (!(key in schema)) continue;
      if (key === "format" && schema.type && !Array.isArray(schema.type)) continue; // already in the type label
      const value = schema[key];
      if (key === "uniqueItems") {
        if (value === true) bits.push(el("span", { class: "constraint", text: label }));
        continue;
      }
      const shown = typeof value === "string" && key !== "default" && key !== "example" ? value : literal(value);
      bits.push(el("span", { class: "constraint" }, label + " ", el("code", { text: shown })));
    }
    if (Array.isArray(schema.examples) && schema.examples.length) {
      bits.push(el("span", { class: "constraint" }, "examples ", ...schema.examples.slice(0, 3).map((v) => el("code", { text: literal(v) }))));
    }
    if (bits.length) box.appendChild(el("div", { class: "constraints" }, bits));
  }

  // ---------------------------------------------------------------- operations

  function collectOperations() {
    const ops = [];
    const paths = isObject(spec.paths) ? spec.paths : {};
    for (const [path, rawItem] of Object.entries(paths)) {
      const item = deref(rawItem);
      if (!isObject(item)) continue;
      const shared = Array.isArray(item.parameters) ? item.parameters : [];
      for (const method of METHODS) {
        const op = item[method];
        if (!isObject(op)) continue;
        ops.push({ path, method, op, sharedParams: shared, pathItem: item });
      }
    }
    return ops;
  }

  /** Path-level parameters overridden by operation-level ones (same name + in). */
  function mergedParameters(entry) {
    const byKey = new Map();
    for (const raw of entry.sharedParams.concat(Array.isArray(entry.op.parameters) ? entry.op.parameters : [])) {
      const param = deref(raw);
      if (!isObject(param)) continue;
      byKey.set(String(param.in) + ":" + String(param.name), param);
    }
    return Array.from(byKey.values());
  }

  /** Describe the security an operation needs. */
  function securityInfo(op) {
    const requirements = Array.isArray(op.security) ? op.security : Array.isArray(spec.security) ? spec.security : null;
    if (requirements === null) return { kind: "none", label: "No auth declared" };
    if (requirements.length === 0 || requirements.some((r) => isObject(r) && Object.keys(r).length === 0)) {
      return { kind: "public", label: "Public — no token needed" };
    }
    const schemes = (spec.components && isObject(spec.components.securitySchemes)) ? spec.components.securitySchemes : {};
    const names = [];
    let bearer = false;
    for (const req of requirements) {
      if (!isObject(req)) continue;
      for (const [name, scopes] of Object.entries(req)) {
        const scheme = deref(schemes[name]);
        if (isObject(scheme) && scheme.type === "http" && String(scheme.scheme).toLowerCase() === "bearer") bearer = true;
        if (isObject(scheme) && (scheme.type === "oauth2" || scheme.type === "openIdConnect")) bearer = true;
        const scopeText = Array.isArray(scopes) && scopes.length ? " (" + scopes.join(", ") + ")" : "";
        names.push(name + scopeText);
      }
    }
    if (bearer) return { kind: "bearer", label: "Requires bearer token", schemes: names };
    return { kind: "auth", label: "Requires authentication", schemes: names };
  }

  function methodBadge(method) {
    const known = ["get", "post", "put", "patch", "delete"].includes(method) ? method : "other";
    return el("span", { class: "method m-" + known, text: method.toUpperCase() });
  }

  function renderContent(content, emptyText) {
    const box = el("div", { class: "media-list" });
    if (!isObject(content) || !Object.keys(content).length) {
      if (emptyText) box.appendChild(el("p", { class: "muted", text: emptyText }));
      return box;
    }
    for (const [mediaType, media] of Object.entries(content)) {
      const mt = el("div", { class: "media" }, el("div", { class: "media-type" }, el("code", { text: mediaType })));
      if (isObject(media) && media.schema !== undefined) mt.appendChild(renderSchema(media.schema));
      else mt.appendChild(el("p", { class: "muted", text: "No schema." }));
      box.appendChild(mt);
    }
    return box;
  }

  function renderOperation(entry) {
    const { path, method, op } = entry;
    const id = uniqueId("op-" + slug(op.operationId || method + "-" + path));
    entry.id = id;
    const security = securityInfo(op);

    const section = el("section", { class: "operation", id });
    if (op.deprecated) section.classList.add("is-deprecated");

    const header = el("header", { class: "op-header" },
      methodBadge(method),
      el("code", { class: "op-path", text: path }),
      el("span", { class: "auth auth-" + security.kind, title: security.schemes ? "Security: " + security.schemes.join(" or ") : "", text: security.label }));
    if (op.deprecated) header.appendChild(el("span", { class: "tag deprecated", text: "deprecated" }));
    section.appendChild(header);

    if (op.summary) section.appendChild(el("h3", { class: "op-summary", text: op.summary }));
    if (op.operationId) section.appendChild(el("div", { class: "op-id" }, "operationId ", el("code", { text: op.operationId })));
    if (op.description) section.appendChild(richText(op.description));
    if (security.schemes && security.schemes.length) {
      section.appendChild(el("p", { class: "muted small" }, "Security: ", security.schemes.join(" or ")));
    }

    // Parameters
    const params = mergedParameters(entry);
    if (params.length) {
      const tbody = el("tbody");
      for (const p of params) {
        const schema = p.schema !== undefined ? p.schema
          : isObject(p.content) ? (Object.values(p.content)[0] || {}).schema : undefined;
        const descCell = el("td", { class: "param-desc" });
        if (p.description) descCell.appendChild(richText(p.description));
        const resolved = isObject(schema) && schema.$ref ? resolvePointer(schema.$ref) : schema;
        if (isObject(resolved)) appendConstraints(descCell, resolved);
        if (p.deprecated) descCell.appendChild(el("span", { class: "tag deprecated", text: "deprecated" }));
        tbody.appendChild(el("tr", null,
          el("td", null, el("code", { text: String(p.name) })),
          el("td", { text: String(p.in) }),
          el("td", null, p.required ? el("span", { class: "required", text: "required" }) : el("span", { class: "optional", text: "optional" })),
          el("td", null, el("code", { class: "type", text: typeLabel(schema) })),
          descCell));
      }
      section.appendChild(el("h4", { text: "Parameters" }));
      section.appendChild(el("div", { class: "table-wrap" }, el("table", { class: "params" },
        el("thead", null, el("tr", null, ["Name", "In", "Required", "Type", "Description"].map((h) => el("th", { text: h })))),
        tbody)));
    }

    // Request body
    if (op.requestBody !== undefined) {
      const body = deref(op.requestBody);
      const title = el("h4", null, "Request body");
      if (isObject(body) && body.required) title.appendChild(el("span", { class: "required", text: "required" }));
      else title.appendChild(el("span", { class: "optional", text: "optional" }));
      section.appendChild(title);
      if (isObject(body) && body.description) section.appendChild(richText(body.description));
      section.appendChild(renderContent(isObject(body) ? body.content : null, "No content described."));
    }

    // Responses
    if (isObject(op.responses) && Object.keys(op.responses).length) {
      section.appendChild(el("h4", { text: "Responses" }));
      const list = el("div", { class: "responses" });
      const codes = Object.keys(op.responses).sort((a, b) => statusOrder(a) - statusOrder(b));
      for (const code of codes) {
        const response = deref(op.responses[code]);
        const cls = "status s" + (/^[1-5]/.test(code) ? code[0] : "d");
        const row = el("div", { class: "response" },
          el("div", { class: "response-head" },
            el("span", { class: cls, text: code }),
            el("span", { class: "response-desc", text: isObject(response) && response.description ? firstLine(response.description) : "" })));
        if (isObject(response) && isObject(response.headers) && Object.keys(response.headers).length) {
          const headers = el("div", { class: "resp-headers" }, el("span", { class: "sub-label", text: "headers" }));
          for (const [name, raw] of Object.entries(response.headers)) {
            const h = deref(raw);
            headers.appendChild(el("span", { class: "constraint" }, el("code", { text: name }), " ", typeLabel(isObject(h) ? h.schema : undefined)));
          }
          row.appendChild(headers);
        }
        if (isObject(response) && isObject(response.content)) row.appendChild(renderContent(response.content));
        list.appendChild(row);
      }
      section.appendChild(list);
    }
    return section;
  }

  function statusOrder(code) {
    if (code === "default") return 1000;
    const n = parseInt(code.replace(/X/gi, "0"), 10);
    return Number.isNaN(n) ? 999 : n;
  }

  function firstLine(text) {
    return String(text).split(/\n\s*\n/)[0].replace(/\s+/g, " ").trim();
  }

  // ---------------------------------------------------------------- page

  function groupByTag(ops) {
    const declared = Array.isArray(spec.tags) ? spec.tags.filter(isObject) : [];
    const groups = new Map();
    for (const tag of declared) groups.set(String(tag.name), { tag, ops: [] });
    for (const entry of ops) {
      const tags = Array.isArray(entry.op.tags) && entry.op.tags.length ? entry.op.tags : ["Other"];
      for (const name of tags) {
        if (!groups.has(String(name))) groups.set(String(name), { tag: { name: String(name) }, ops: [] });
        groups.get(String(name)).ops.push(entry);
      }
    }
    return Array.from(groups.values()).filter((g) => g.ops.length);
  }

  function render() {
    const content = document.getElementById("content");
    const sidebar = document.getElementById("sidebar");
    content.textContent = "";
    sidebar.textContent = "";

    const info = isObject(spec.info) ? spec.info : {};
    if (info.title) document.title = String(info.title) + " — ElevatedPOS API reference";

    // Intro
    const intro = el("section", { class: "intro", id: uniqueId("overview") },
      el("h1", null, info.title ? String(info.title) : "API reference",
        info.version ? el("span", { class: "version", text: "v" + String(info.version).replace(/^v/, "") }) : null));
    const meta = el("div", { class: "meta" });
    if (spec.openapi) meta.appendChild(el("span", { class: "pill", text: "OpenAPI " + spec.openapi }));
    meta.appendChild(el("a", { class: "pill link", href: SPEC_URL, text: "openapi.json" }));
    if (Array.isArray(spec.servers)) {
      for (const server of spec.servers) {
        if (isObject(server) && server.url) meta.appendChild(el("span", { class: "pill", title: server.description || "" }, "server ", el("code", { text: String(server.url) })));
      }
    }
    intro.appendChild(meta);
    if (info.summary) intro.appendChild(el("p", { class: "lead", text: String(info.summary) }));
    if (info.description) intro.appendChild(richText(String(info.description)));
    content.appendChild(intro);

    const ops = collectOperations();
    const groups = groupByTag(ops);

    // Sidebar header
    sidebar.appendChild(el("a", { class: "side-overview", href: "#overview", text: "Overview" }));

    const allRows = [];
    for (const group of groups) {
      const tagId = uniqueId("tag-" + slug(group.tag.name));
      const section = el("section", { class: "tag-section", id: tagId },
        el("h2", { text: group.tag.name }));
      if (group.tag.description) section.appendChild(richText(String(group.tag.description), "tag-desc"));

      const navGroup = el("div", { class: "nav-group" }, el("a", { class: "nav-tag", href: "#" + tagId, text: group.tag.name }));
      const navList = el("ul", { class: "nav-ops" });
      const rows = [];
      for (const entry of group.ops) {
        const opNode = renderOperation(entry);
        section.appendChild(opNode);
        const link = el("a", { href: "#" + entry.id, title: entry.op.summary || "" },
          methodBadge(entry.method), el("span", { class: "nav-path", text: entry.path }));
        const li = el("li", null, link);
        navList.appendChild(li);
        const haystack = [entry.method, entry.path, entry.op.summary || "", entry.op.operationId || ""].join(" ").toLowerCase();
        rows.push({ haystack, opNode, li });
      }
      navGroup.appendChild(navList);
      sidebar.appendChild(navGroup);
      content.appendChild(section);
      allRows.push({ section, navGroup, rows });
    }
    if (!groups.length) content.appendChild(el("p", { class: "muted", text: "This document describes no operations." }));

    // Component schemas
    const schemas = spec.components && isObject(spec.components.schemas) ? spec.components.schemas : null;
    if (schemas && Object.keys(schemas).length) {
      const section = el("section", { class: "tag-section schemas", id: uniqueId("schemas") }, el("h2", { text: "Schemas" }));
      const navList = el("ul", { class: "nav-schemas" });
      for (const [name, schema] of Object.entries(schemas)) {
        const id = uniqueId("schema-" + slug(name));
        const ref = "#/components/schemas/" + name.replace(/~/g, "~0").replace(/\//g, "~1");
        section.appendChild(el("div", { class: "schema-card", id },
          el("h3", null, el("code", { text: name })),
          renderSchema(schema, [ref], 0)));
        navList.appendChild(el("li", null, el("a", { href: "#" + id, text: name })));
      }
      content.appendChild(section);
      const navGroup = el("div", { class: "nav-group nav-schemas-group" },
        el("details", { class: "nav-schemas-box" }, el("summary", { class: "nav-tag", text: "Schemas" }), navList));
      sidebar.appendChild(navGroup);
    }

    const noMatch = el("p", { class: "muted no-match", hidden: true, text: "No operations match the filter." });
    content.insertBefore(noMatch, content.children[1] || null);
    setupFilter(allRows, noMatch, [content.querySelector(".schemas"), sidebar.querySelector(".nav-schemas-group")]);

    // Re-apply a #fragment now that the targets exist.
    if (location.hash.length > 1) {
      const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target) target.scrollIntoView();
    }
  }

  function setupFilter(groups, noMatch, schemaNodes) {
    const input = document.getElementById("filter");
    if (!input) return;
    const apply = () => {
      const terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      let total = 0;
      for (const group of groups) {
        let visible = 0;
        for (const row of group.rows) {
          const show = terms.every((t) => row.haystack.includes(t));
          row.opNode.hidden = !show;
          row.li.hidden = !show;
          if (show) visible++;
        }
        group.section.hidden = visible === 0;
        group.navGroup.hidden = visible === 0;
        total += visible;
      }
      noMatch.hidden = total !== 0 || groups.length === 0;
      // Component schemas are not operations: hide them while a filter is active.
      for (const node of schemaNodes) if (node) node.hidden = terms.length > 0;
    };
    input.addEventListener("input", apply);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { input.value = ""; apply(); }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "/" && document.activeElement !== input) { event.preventDefault(); input.focus(); }
    });
    apply();
  }

  function showError(message, detail) {
    const content = document.getElementById("content");
    content.textContent = "";
    content.appendChild(el("div", { class: "error", role: "alert" },
      el("h2", { text: "Could not load the API description" }),
      el("p", { text: message }),
      detail ? el("pre", { text: detail }) : null,
      el("p", null, "Expected an OpenAPI document at ", el("a", { href: SPEC_URL }, el("code", { text: SPEC_URL })), ".")));
  }

  async function main() {
    let response;
    try {
      response = await fetch(SPEC_URL, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-cache" });
    } catch (err) {
      showError("The request failed (network error or server unreachable).", String(err && err.message ? err.message : err));
      return;
    }
    if (!response.ok) {
      let detail = "";
      try {
        const type = (response.headers.get("Content-Type") || "").toLowerCase();
        const text = await response.text();
        if (type.includes("json")) {
          // Problem details (RFC 9457): show title and detail.
          try {
            const problem = JSON.parse(text);
            detail = [problem.title, problem.detail].filter(Boolean).join(": ") || text.slice(0, 500);
          } catch (_e) {
            detail = text.slice(0, 500);
          }
        } else if (!type.includes("html")) {
          detail = text.slice(0, 500);
        }
      } catch (_e) { /* ignore */ }
      showError("The server answered HTTP " + response.status + (response.statusText ? " " + response.statusText : "") + ".", detail);
      return;
    }
    try {
      spec = await response.json();
    } catch (err) {
      showError("The response is not valid JSON.", String(err && err.message ? err.message : err));
      return;
    }
    if (!isObject(spec) || (!spec.openapi && !spec.paths)) {
      showError("The response is not an OpenAPI document.");
      return;
    }
    try {
      render();
    } catch (err) {
      showError("The API description could not be rendered.", String(err && err.stack ? err.stack : err));
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
