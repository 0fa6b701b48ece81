#!/usr/bin/env bash
# The README's Configuration table says what `b24gate --help` says: the same
# settings in the same order, each with the same flag (and value name),
# environment variable, file key and default. Both come from one table in the
# code (service/settings.cc); this keeps the README true to it.
#
# usage: settings_table_test.sh B24GATE_BIN README.md
set -uo pipefail
BIN=$1
README=$2
help=$("$BIN" --help) || { echo "FAIL: $BIN --help exited non-zero" >&2; exit 1; }
HELP="$help" node - "$README" <<'JS'
const fs = require("fs");
const readme = fs.readFileSync(process.argv[2], "utf8");

// --help: "  NAME [VALUE]" then, optionally, "      [env X; file Y; default Z]".
const fromHelp = [];
for (const line of process.env.HELP.split("\n")) {
  let m;
  if ((m = line.match(/^  (\S.*)$/))) {
    fromHelp.push({ flag: m[1] === "(no flag)" ? "" : m[1], env: "", file: "", default: "" });
  } else if ((m = line.match(/^      \[(.*)\]$/)) && fromHelp.length) {
    for (const part of m[1].split("; ")) {
      const [key, ...rest] = part.split(" ");
      fromHelp[fromHelp.length - 1][key] = rest.join(" ");
    }
  }
}

// The README: the table under "## Configuration" whose header starts "| flag |".
const section = readme.split(/^## Configuration$/m)[1].split(/^## /m)[0];
const lines = section.split("\n");
const header = lines.findIndex((l) => /^\| flag \| environment \| file key \| default \|/.test(l));
if (header < 0) { console.error("FAIL: no '| flag | environment | file key | default |' table"); process.exit(1); }
let end = header;
while (end < lines.length && lines[end].startsWith("|")) end++;
const rows = lines.slice(header, end);
const cell = (c) => c.trim().replace(/\\\|/g, "|").replace(/`/g, "").replace(/ \(repeatable\)$/, "");
const fromReadme = [];
for (const row of rows.slice(2)) {
  const cells = row.split(/(?<!\\)\|/).slice(1, -1).map(cell);
  fromReadme.push({ flag: cells[0], env: cells[1], file: cells[2], default: cells[3] });
}

const show = (r) => `flag "${r.flag}", env "${r.env}", file "${r.file}", default "${r.default}"`;
let bad = 0;
for (let i = 0; i < Math.max(fromHelp.length, fromReadme.length); i++) {
  const h = fromHelp[i], r = fromReadme[i];
  if (!h || !r || show(h) !== show(r)) {
    console.error(`row ${i + 1}: --help has ${h ? show(h) : "nothing"}; README has ${r ? show(r) : "nothing"}`);
    bad++;
  }
}
if (bad) { console.error("FAIL: the README's Configuration table differs from --help"); process.exit(1); }
console.log(`PASS: ${fromHelp.length} settings, the README's table matches --help`);
JS
