// The API docs page: renders /openapi.json offline (no CDN), in a file of its own for the CSP.
"use strict";
renderHeader("docs");
let SPEC = null;
function refName(s) { return s && s.$ref ? s.$ref.split("/").pop() : null; }
function typeOf(s) {
  if (!s) return "any";
  if (s.$ref) return refName(s);
  if (s.anyOf) return s.anyOf.map(typeOf).join(" | ");
  if (s.type === "array") return typeOf(s.items) + "[]";
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  return s.type || "object";
}
function fields(schema) {
  if (schema && schema.$ref) schema = SPEC.components.schemas[refName(schema)];
  if (!schema || !schema.properties) return el("div", { class: "hint", text: typeOf(schema) });
  const required = new Set(schema.required || []);
  return el("table", {}, el("tbody", {}, ...Object.entries(schema.properties).map(([name, prop]) =>
    el("tr", {}, el("td", {}, el("code", { text: name }), required.has(name) ? " *" : ""),
      el("td", { class: "hint", text: typeOf(prop) }),
      el("td", { text: (prop.description || "") + (prop.default !== undefined && prop.default !== null ? " (default " + JSON.stringify(prop.default) + ")" : "") })))));
}
fetch("/openapi.json").then((r) => r.json()).then((spec) => {
  SPEC = spec;
  const ops = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters || []).filter((p) => p.in !== "header")
        .map((p) => p.name + " (" + p.in + (p.required ? ", required" : "") + ")");
      const content = (op.requestBody && op.requestBody.content) || {};
      const bodies = Object.entries(content).map(([type, c]) =>
        el("details", {}, el("summary", { class: "hint", text: "body: " + type + " " + (refName(c.schema) || "") }), fields(c.schema)));
      const ok = op.responses && (op.responses["200"] || op.responses["202"]);
      const okSchema = ok && ok.content && ok.content["application/json"] ? ok.content["application/json"].schema : null;
      ops.push(el("div", { class: "docs-op" },
        el("div", {}, el("span", { class: "m", text: method.toUpperCase() }), el("code", { text: path }), " — ", op.summary || ""),
        params.length ? el("div", { class: "hint", text: "parameters: " + params.join(", ") }) : null,
        bodies,
        okSchema && refName(okSchema) ? el("details", {}, el("summary", { class: "hint", text: "returns " + refName(okSchema) }), fields(okSchema)) : null));
    }
  }
  document.getElementById("ops").replaceChildren(...ops);
});
