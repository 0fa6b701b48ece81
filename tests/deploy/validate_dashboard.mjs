// Validates the Grafana dashboard offline against what Grafana's classic
// dashboard JSON model requires and what this project promises of it. No
// Grafana binary is available here (not a Debian package), so this checks
// the structure; tests/e2e/prometheus_test.cc runs every query against a
// real Prometheus.
//
// usage: node validate_dashboard.mjs DASHBOARD.json
//
// Checked:
//  - the dashboard's required fields and their types; schemaVersion 41 (the
//    classic model of Grafana 12; newer versions migrate it when loading);
//    `id` null, so that provisioning assigns one;
//  - template variables: `datasource` (type datasource, Prometheus) and
//    `portal` (a label_values() query on that data source, multi-select
//    with All); every `$var` a panel uses is one of them or a Grafana
//    built-in;
//  - panels: known types, unique ids and titles, a gridPos on the 24-column
//    grid with no two panels overlapping, rows expanded (their panels
//    follow them at the top level) and every other panel under a row;
//  - each non-row panel: a description, the `${datasource}` data source on
//    the panel and on every query, a unit Grafana knows, at least one query,
//    each with a unique refId, an expression and a legend.
//
// Exits 1 listing every problem as "FILE: where: message".
import fs from "node:fs";

const file = process.argv[2];
if (!file) {
  console.error("usage: validate_dashboard.mjs DASHBOARD.json");
  process.exit(2);
}
const problems = [];
const problem = (where, message) => problems.push(`${file}: ${where}: ${message}`);

let dashboard;
try {
  dashboard = JSON.parse(fs.readFileSync(file, "utf8"));
} catch (e) {
  console.error(`INVALID: ${file}: not JSON: ${e.message}`);
  process.exit(1);
}

const SCHEMA_VERSION = 41;
const PANEL_TYPES = new Set([
  "row", "timeseries", "stat", "gauge", "bargauge", "table", "state-timeline", "status-history",
  "heatmap", "text", "barchart", "histogram", "piechart",
]);
// Unit ids of Grafana's value formats (a subset: the ones a gateway's
// series need).
const UNITS = new Set([
  "none", "short", "percent", "percentunit", "s", "ms", "µs", "ns", "m", "h", "d", "dtdurations",
  "reqps", "rps", "wps", "ops", "cps", "eps", "mps", "reqpm", "cpm", "opm", "bytes", "decbytes",
  "bool", "bool_yes_no", "bool_on_off", "dateTimeAsIso", "dateTimeFromNow",
]);
const BUILTIN_VARIABLES = new Set([
  "__rate_interval", "__interval", "__interval_ms", "__range", "__range_s", "__range_ms",
  "__dashboard", "__from", "__to",
]);
const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const sameDatasource = (d) => isObject(d) && d.type === DATASOURCE.type && d.uid === DATASOURCE.uid;
function expectType(where, value, type) {
  const actual = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  if (actual !== type) problem(where, `expected ${type}, found ${actual}`);
  return actual === type;
}

// --- The dashboard.
const fields = {
  title: "string", uid: "string", schemaVersion: "number", editable: "boolean",
  graphTooltip: "number", panels: "array", templating: "object", time: "object",
  annotations: "object", tags: "array", refresh: "string", timezone: "string", description: "string",
};
for (const [field, type] of Object.entries(fields)) expectType(field, dashboard[field], type);
if (dashboard.id !== null) problem("id", "must be null (provisioning assigns the id)");
if (dashboard.schemaVersion !== SCHEMA_VERSION) {
  problem("schemaVersion", `${dashboard.schemaVersion}, expected ${SCHEMA_VERSION}`);
}
if (typeof dashboard.uid === "string" && !/^[A-Za-z0-9_-]{1,40}$/.test(dashboard.uid)) {
  problem("uid", "1-40 of A-Za-z0-9_-");
}
if (![0, 1, 2].includes(dashboard.graphTooltip)) problem("graphTooltip", "0, 1 or 2");
if (isObject(dashboard.time) && !(typeof dashboard.time.from === "string" && typeof dashboard.time.to === "string")) {
  problem("time", "needs from and to");
}
if (isObject(dashboard.annotations)) expectType("annotations.list", dashboard.annotations.list, "array");

// --- Template variables.
const variables = new Map();
const list = isObject(dashboard.templating) ? dashboard.templating.list : undefined;
if (expectType("templating.list", list, "array")) {
  for (const [i, v] of list.entries()) {
    const where = `templating.list[${i}]`;
    if (!isObject(v) || typeof v.name !== "string" || typeof v.type !== "string") {
      problem(where, "needs a name and a type");
      continue;
    }
    if (variables.has(v.name)) problem(where, `variable ${v.name} defined twice`);
    variables.set(v.name, v);
  }
}
const datasource = variables.get("datasource");
if (!datasource || datasource.type !== "datasource" || datasource.query !== "prometheus") {
  problem("templating", "needs a variable `datasource` of type datasource, query prometheus");
}
const portal = variables.get("portal");
if (!portal || portal.type !== "query") {
  problem("templating", "needs a variable `portal` of type query");
} else {
  if (!sameDatasource(portal.datasource)) problem("templating.portal", "datasource must be ${datasource}");
  const definition = /^label_values\(b24gate_\w+, *portal\)$/;
  if (!definition.test(portal.definition ?? "") || !definition.test(portal.query?.query ?? "")) {
    problem("templating.portal", "definition and query must be label_values(b24gate_..., portal)");
  }
  if (portal.multi !== true || portal.includeAll !== true) problem("templating.portal", "multi-select with All");
}

// Every $name / ${name} / [[name]] in `text` is a variable or a built-in.
function checkVariables(where, text) {
  for (const m of text.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g)) {
    const name = m[1] ?? m[2] ?? m[3];
    if (!variables.has(name) && !BUILTIN_VARIABLES.has(name)) problem(where, `unknown variable $${name}`);
  }
}

// --- Panels.
const ids = new Set();
const titles = new Set();
const cells = new Map();  // "x,y" -> panel title, for overlaps
let underRow = false;
for (const [i, panel] of (Array.isArray(dashboard.panels) ? dashboard.panels : []).entries()) {
  const where = `panels[${i}] "${panel?.title ?? ""}"`;
  if (!isObject(panel)) {
    problem(`panels[${i}]`, "not an object");
    continue;
  }
  if (!PANEL_TYPES.has(panel.type)) problem(where, `unknown panel type ${JSON.stringify(panel.type)}`);
  if (!Number.isInteger(panel.id) || panel.id < 1) problem(where, "id must be a positive integer");
  else if (ids.has(panel.id)) problem(where, `id ${panel.id} used twice`);
  ids.add(panel.id);
  if (typeof panel.title !== "string" || panel.title === "") problem(where, "needs a title");
  else if (titles.has(panel.title)) problem(where, "title used twice");
  titles.add(panel.title);

  const g = panel.gridPos;
  const int = (v, min, max) => Number.isInteger(v) && v >= min && v <= max;
  if (!isObject(g) || !int(g.x, 0, 23) || !int(g.w, 1, 24) || !int(g.h, 1, 100) || !int(g.y, 0, 10000)) {
    problem(where, "gridPos needs integers x 0-23, w 1-24, h >= 1, y >= 0");
  } else {
    if (g.x + g.w > 24) problem(where, `gridPos x ${g.x} + w ${g.w} is wider than the 24 columns`);
    for (let x = g.x; x < Math.min(g.x + g.w, 24); ++x) {
      for (let y = g.y; y < g.y + g.h; ++y) {
        const other = cells.get(`${x},${y}`);
        if (other !== undefined) {
          problem(where, `overlaps panel "${other}" at column ${x}, row ${y}`);
          x = 24;  // one report per panel
          break;
        }
        cells.set(`${x},${y}`, panel.title);
      }
    }
  }

  if (panel.type === "row") {
    underRow = true;
    if (panel.collapsed !== false || !Array.isArray(panel.panels) || panel.panels.length) {
      problem(where, "rows stay expanded (collapsed false, panels [] with the panels after the row)");
    }
    if (isObject(g) && (g.w !== 24 || g.h !== 1 || g.x !== 0)) problem(where, "a row spans x 0, w 24, h 1");
    continue;
  }
  if (!underRow) problem(where, "every panel sits under a row");
  if (typeof panel.description !== "string" || panel.description === "") problem(where, "needs a description");
  checkVariables(`${where} title`, panel.title ?? "");
  if (!sameDatasource(panel.datasource)) problem(where, "datasource must be {type: prometheus, uid: ${datasource}}");
  const unit = panel.fieldConfig?.defaults?.unit;
  if (!UNITS.has(unit)) problem(where, `fieldConfig.defaults.unit ${JSON.stringify(unit)} is not a Grafana unit`);
  if (!Array.isArray(panel.fieldConfig?.overrides)) problem(where, "fieldConfig.overrides must be an array");
  if (!Array.isArray(panel.targets) || panel.targets.length === 0) {
    problem(where, "needs at least one query");
    continue;
  }
  const refIds = new Set();
  for (const [j, t] of panel.targets.entries()) {
    const at = `${where} targets[${j}]`;
    if (typeof t.refId !== "string" || !/^[A-Z]$/.test(t.refId)) problem(at, "refId must be a letter A-Z");
    else if (refIds.has(t.refId)) problem(at, `refId ${t.refId} used twice`);
    refIds.add(t.refId);
    if (!sameDatasource(t.datasource)) problem(at, "datasource must be ${datasource}");
    if (typeof t.expr !== "string" || t.expr.trim() === "") problem(at, "needs an expr");
    else checkVariables(at, t.expr);
    if (typeof t.legendFormat !== "string" || t.legendFormat === "") problem(at, "needs a legendFormat");
  }
}

if (problems.length) {
  for (const p of problems) console.error(`INVALID: ${p}`);
  process.exit(1);
}
console.log(`${file}: ${ids.size} panels, ${variables.size} variables: valid`);
