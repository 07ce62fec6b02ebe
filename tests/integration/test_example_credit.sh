#!/bin/bash
# examples/credit.yaml end to end on the data `kiln demo` generates (20,000
# rows here; the demo writes the shipped spec and schema beside them):
# `kiln run` against scikit-learn on the same protocol (ref_examples.py:
# the schema's quarantine and the dedupe redone in pandas and counted, the
# same stratified hold-out, the same 5 shuffled stratified folds, the same
# date features) with HistGradientBoostingClassifier matched to the spec's
# GBDT (100 rounds, learning rate 0.1, 31 leaves, 20 rows per leaf, no L2,
# 255 bins, native categorical splits). The tolerances of the GBDT quality
# test: ROC-AUC and accuracy no more than 1 percentage point below (CV mean
# and test), log loss no more than 2 % above. Then the artifact and the
# registration (credit v1, production).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/examples.sh"
require_sklearn
"$KILN" -q demo --out "$W/demo" --rows 20000 --store "$W/demo-store" > "$W/demo.out" 2>&1 ||
    fail "kiln demo: $(cat "$W/demo.out")"
for f in credit.yaml credit_schema.yaml; do
    cmp -s "$W/demo/$f" "$EXAMPLES/$f" || fail "kiln demo wrote a $f other than examples/$f"
done
example_setup
cp "$W/demo/credit.csv" "$W/ex/credit.csv"
example_run credit
if [ "${KILN_SANITIZED:-0}" = 1 ]; then # memory checks only: quality is judged unsanitized
    $py -c 'import json, sys; r = json.load(open(sys.argv[1]))["rows"]; assert r["in"] == 20000 and r["quarantined"] > 0 and r["deduplicated"] > 0, r' \
        "$W/credit.run.json" || fail "credit rows: $(cat "$W/credit.run.json")"
else
    example_ref credit "$W/ex/credit.csv"
    $py - "$W/credit.run.json" "$W/credit.ref.json" <<'PY' || fail "credit: rows differ from the reference's"
import json, sys
got, ref = (json.load(open(p)) for p in sys.argv[1:3])
r, want = got["rows"], ref["rows"]
assert (r["in"], r["quarantined"], r["deduplicated"]) == (want["in"], want["quarantined"], want["deduplicated"]), (r, want)
assert 20 <= r["quarantined"] <= 100 and 50 <= r["deduplicated"] <= 150, r  # ~0.3 %, ~0.5 %
print(f"credit: {r['in']} rows in, {r['quarantined']} quarantined, {r['deduplicated']} duplicates removed (as pandas counts)")
PY
    example_compare credit '{"roc_auc": ("below", 0.01), "accuracy": ("below", 0.01), "log_loss": ("above", 0.02)}'
fi
[ -s "$W/ex/credit.rejects.csv" ] || fail "no rejects file beside the spec"
example_registered credit credit production 1 "$W/ex/credit.csv"
grep -q "quarantined into" "$W/credit.pred.err" || fail "predict scored impossible rows: $(cat "$W/credit.pred.err")"
echo "credit: all passed"
