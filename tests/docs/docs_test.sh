#!/usr/bin/env bash
# Everything the repository's documents point at lives in the repository:
#  1. no tracked file names a path outside it (a machine path, the planning
#     folder next to the checkout) or
#     a planning document readers do not have ("docs section 4", "issue 4",
#     "seed 004");
#  2. every relative link in a Markdown file resolves to a file or folder of
#     the checkout, and every `#anchor` to a heading of its target.
#
# usage: docs_test.sh [REPO_ROOT]
set -uo pipefail
ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 1
failures=0

# 1. Outside references. This file spells the patterns, so it is left out.
# Bracketed letters match themselves: this file spells no outside path itself.
pattern='/w[o]rk/|sh[a]red/docs|docs? section [0-9]|protocol doc section|\bissue [0-9N]\b|seed 0[0-9]{2}|seeds/[0-9]'
hits=$(git ls-files -z | grep -zv -e '^tests/docs/docs_test.sh$' -e '^package-lock.json$' |
  xargs -0 grep -nIiE "$pattern" 2>/dev/null)
if [[ -n $hits ]]; then
  echo "FAIL: references outside the repository:" >&2
  echo "$hits" >&2
  failures=$((failures + 1))
else
  echo "PASS: no file points outside the repository"
fi

# 2. Relative Markdown links and their anchors (GitHub's heading slugs).
if node - <<'JS'
const fs = require("fs");
const path = require("path");
const { execSync } = require("child_process");
const files = execSync("git ls-files '*.md'", { encoding: "utf8" }).split("\n").filter(Boolean);
const slug = (h) => h.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
const anchors = (file) => {
  const text = fs.readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6}\s+(.*)$/gm)].map((m) => slug(m[1].replace(/`/g, ""))));
};
let bad = 0, links = 0;
for (const file of files) {
  const text = fs.readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1];
    if (/^[a-z]+:/i.test(target)) continue;  // http:, https:, mailto:
    links++;
    const [rel, anchor] = target.split("#");
    const dest = rel ? path.normalize(path.join(path.dirname(file), rel)) : file;
    if (!fs.existsSync(dest)) { console.error(`${file}: link ${target}: no such file`); bad++; continue; }
    if (anchor && dest.endsWith(".md") && !anchors(dest).has(anchor)) {
      console.error(`${file}: link ${target}: no heading #${anchor} in ${dest}`); bad++;
    }
  }
}
console.log(`${links} relative links in ${files.length} Markdown files checked`);
process.exit(bad ? 1 : 0);
JS
then
  echo "PASS: every relative Markdown link resolves"
else
  echo "FAIL: broken relative Markdown links" >&2
  failures=$((failures + 1))
fi

((failures == 0)) || exit 1
echo "all docs checks passed"
