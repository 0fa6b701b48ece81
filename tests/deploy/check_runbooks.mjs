// Every alert has a runbook, and every runbook points at the dashboard as it
// is.
//
// usage: node check_runbooks.mjs RULES.yaml DASHBOARD.json [REPO_ROOT]
//
// For each alert of the PrometheusRule in RULES.yaml:
//  - its runbook_url annotation is docs/runbooks/ALERT.md, and that file
//    exists (relative to REPO_ROOT, default the current directory) and is
//    titled "# ALERT";
//  - the runbook names at least one dashboard panel, and every panel it names
//    exists: outside code, each "double-quoted" text in a runbook is a panel
//    title of DASHBOARD.json.
// And docs/runbooks/ holds no runbook of an alert that does not exist.
//
// Exits 1 listing every problem as "INVALID: where: message".
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";

const [rulesFile, dashboardFile, root = "."] = process.argv.slice(2);
if (!rulesFile || !dashboardFile) {
  console.error("usage: check_runbooks.mjs RULES.yaml DASHBOARD.json [REPO_ROOT]");
  process.exit(2);
}
const problems = [];
const problem = (where, message) => problems.push(`${where}: ${message}`);

const rules = parse(fs.readFileSync(rulesFile, "utf8"));
const alerts = (rules?.spec?.groups ?? []).flatMap((g) => g.rules ?? []).filter((r) => r.alert);
if (alerts.length === 0) problem(rulesFile, "no alerts");
const titles = new Set(
  JSON.parse(fs.readFileSync(dashboardFile, "utf8")).panels.filter((p) => p.type !== "row").map((p) => p.title));

for (const { alert, annotations } of alerts) {
  const want = `docs/runbooks/${alert}.md`;
  if (annotations?.runbook_url !== want) {
    problem(alert, `runbook_url is ${JSON.stringify(annotations?.runbook_url)}, expected ${want}`);
  }
  const file = path.join(root, want);
  if (!fs.existsSync(file)) {
    problem(alert, `no runbook ${want}`);
    continue;
  }
  const text = fs.readFileSync(file, "utf8");
  if (!text.startsWith(`# ${alert}\n`)) problem(want, `does not start with "# ${alert}"`);
  const prose = text.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  const named = [...prose.matchAll(/"([^"\n]+)"/g)].map((m) => m[1]);
  if (named.length === 0) problem(want, "names no dashboard panel (a panel title in double quotes)");
  for (const title of named) {
    if (!titles.has(title)) problem(want, `names the panel "${title}", which the dashboard does not have`);
  }
}
const known = new Set(alerts.map((a) => `${a.alert}.md`));
for (const f of fs.readdirSync(path.join(root, "docs/runbooks"))) {
  if (f !== "README.md" && !known.has(f)) problem(`docs/runbooks/${f}`, "no alert of that name");
}

if (problems.length) {
  for (const p of problems) console.error(`INVALID: ${p}`);
  process.exit(1);
}
console.log(`${alerts.length} alerts, each with a runbook whose panels are on the dashboard`);
