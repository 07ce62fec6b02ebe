#!/bin/bash
# kiln run with rows whose target is missing: kiln train and kiln cv say so
# up front (the data's row, --drop-missing-target), but kiln run failed inside
# CV fold 1 naming "row 2" (the fold's row; the file's row is 4) and a fix
# ("drop those rows first") that a spec cannot take. Now the run stops before
# any work with the spec's place, the count, the data's first row and the
# spec's fix (a schema rule), and that rule, as given, lets the run through;
# the summary counts its rows as dropped (it said "quarantined" for both).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(cd "$(dirname "$0")/../data" && pwd)"
cd "$W"
# the wage (last column) of data rows 4 and 9 left empty
awk -F, -v OFS=, 'NR == 5 || NR == 10 {$NF = ""} {print}' "$D/cps1985.csv" > wages.csv
cat > spec.yaml <<'EOF2'
sources:
  d: {file: wages.csv}
target: wage
model:
  ridge: {}
steps:
  - onehot_encoder: {columns: type:categorical, handle_unknown: ignore}
evaluation:
  cv: {folds: 3}
seed: 1
EOF2
"$KILN" -q run spec.yaml --no-store --out m.kiln > run.out 2> run.err &&
    fail "kiln run trained with missing targets"
grep -q "spec.yaml:3:9: target: 'wage' is missing in 2 of 534 rows (first: row 4)" run.err ||
    { cat run.err; fail "no place, count or row"; }
grep -q "cross-validation fold" run.err && { cat run.err; fail "still found inside a fold"; }
# the fix, as the message gives it
rule=$(sed -n 's/.*schema: FILE holding \(columns: \[.*\]\)).*/\1/p' run.err)
[ -n "$rule" ] || { cat run.err; fail "no schema rule in the message"; }
printf 'version: 1\n%s\n' "$rule" > schema.yaml
sed -i 's/^target: wage$/schema: schema.yaml\ntarget: wage/' spec.yaml
"$KILN" -q run spec.yaml --no-store --out m.kiln > run2.out 2> run2.err ||
    { cat run2.err; fail "the suggested schema rule did not let the run through"; }
grep -q "534 rows in, 532 kept, 0 quarantined, 2 dropped, 0 duplicates removed" run2.out ||
    { cat run2.out; fail "not 532 rows kept, 2 dropped"; }
echo "ok"
