#!/bin/bash
# A selector scores its candidate columns (by default the numeric features);
# the others pass through. Its log line said "kept 3 of 17 features" on
# lending_club while the model then read 8 (the 5 text columns passed
# through unscored): a user reading it believed the model saw 3. The line
# now says how many other features pass through, and names the first; the
# count agrees with the fitted pipeline's features (kiln inspect).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(cd "$(dirname "$0")/../data" && pwd)"
cd "$W"
awk 'NR <= 2001' "$D/lending_club.csv" > loans.csv
"$KILN" cv --data loans.csv --target Class --model gbdt --param n_estimators=5 \
    --step "select:method=f_test;k=3" --folds 2 > cv.out 2> cv.err || { cat cv.err; fail "cv"; }
grep -q "select (f_test): kept 3 of 17 candidate features: .*; 5 other features (first: 'term'), not among its columns, pass through unscored" \
    cv.err || { cat cv.err; fail "the log line does not say what passes through"; }
cat > spec.yaml <<'EOF2'
sources:
  d: {file: loans.csv}
target: Class
model:
  gbdt: {n_estimators: 5}
steps:
  - select: {method: f_test, k: 3}
evaluation:
  cv: {folds: 2}
  test: false
seed: 1
EOF2
"$KILN" -q run spec.yaml --no-store --out m.kiln > /dev/null 2> run.err || { cat run.err; fail "run"; }
"$KILN" inspect m.kiln > inspect.out
grep -q "select -> gbdt (classification, 8 features)" inspect.out ||
    { cat inspect.out; fail "the model does not read 3 + 5 features"; }
# no other features: the line as before
"$KILN" cv --data "$D/wine.csv" --target class --model gaussian_nb \
    --step "select:method=f_test;k=3" --folds 2 > /dev/null 2> wine.err
grep -q "select (f_test): kept 3 of 13 features: [^;]*$" wine.err || { cat wine.err; fail "wine"; }
echo "ok"
