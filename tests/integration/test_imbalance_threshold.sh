#!/bin/bash
# tuned_threshold: a binary classifier whose decision threshold is tuned on
# out-of-fold validation predictions (f1, recall at a precision, or an
# expected cost), saved with the model and applied by `kiln predict`:
#   - on lending_club (numeric columns; positive class 'bad', 5.2 %), every
#     prediction of the saved model is 'bad' exactly when the probability of
#     'bad' reaches the stored threshold, and some rows differ from the base's
#     own (argmax) predictions; a `kiln run` artifact's predictions follow a
#     threshold below 0.5 too;
#   - the threshold moves the right way: a costlier false negative lowers it
#     (at equal costs no row is worth calling 'bad': an infinite threshold),
#     a higher required precision does not lower it;
#   - the same seed gives the same bytes;
#   - bad input: three classes, an unknown positive class, zero costs.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
shuffled_quality_data "$DATA"
LC="$W/lending_club.csv"

tt() { # out.kmd, params...: trains tuned_threshold and prints its threshold
    local out=$1; shift
    local args=()
    for p in positive=bad base_params=max_iter=1000 "$@"; do args+=(--param "$p"); done
    "$KILN" -q --json train --data "$LC" --target Class --model tuned_threshold "${args[@]}" \
        --test-size 0 --out "$out" | $py -c "import json,sys; t = json.load(sys.stdin)['summary']['threshold']
print(repr(float('inf') if t is None else t))"
}
check() { # predictions.csv threshold: prediction is bad exactly when proba_bad >= threshold
    $py - "$1" "$2" "$LC" <<'PY' || fail "$1: predictions do not follow the threshold $2"
import sys, pandas as pd
p, t = pd.read_csv(sys.argv[1]), float(sys.argv[2])
want = (p.proba_bad >= t).map({True: "bad", False: "good"})
assert (p.prediction == want).all(), (p.prediction != want).sum()
assert (p.prediction != p[["proba_bad", "proba_good"]].idxmax(axis=1).str[6:]).any(), "as argmax"
PY
}
t=$(tt "$W/t.kmd")
"$KILN" -q predict --model "$W/t.kmd" --data "$LC" --proba --out "$W/p.csv"
check "$W/p.csv" "$t"
tt "$W/t2.kmd" > /dev/null
cmp -s "$W/t.kmd" "$W/t2.kmd" || fail "same seed, other model bytes"

# the run artifact carries it too
cat > "$W/run.yaml" <<YAML
sources:
  loans: {file: $LC}
target: Class
model:
  tuned_threshold: {positive: bad, objective: f1, base_params: "max_iter=1000"}
evaluation:
  cv: {folds: 3}
  metrics: [balanced_accuracy, f1]
  positive_class: bad
  test: {fraction: 0.2}
YAML
"$KILN" -q run "$W/run.yaml" --no-store --out "$W/run.kiln" > /dev/null
"$KILN" -q predict --model "$W/run.kiln" --data "$LC" --proba --out "$W/pr.csv"
# (the final model is fitted on the run's training rows: its threshold is the
# one between the largest probability predicted good and the smallest bad)
tr=$($py -c "
import pandas as pd; p = pd.read_csv('$W/pr.csv')
lo, hi = p.proba_bad[p.prediction == 'good'].max(), p.proba_bad[p.prediction == 'bad'].min()
assert lo < hi < 0.5, (lo, hi)
print(repr(hi))") || fail "the run artifact's predictions follow no threshold below 0.5"
check "$W/pr.csv" "$tr"

# the threshold moves the right way
c1=$(tt "$W/c.kmd" objective=cost cost_fn=1)
c20=$(tt "$W/c.kmd" objective=cost cost_fn=20)
r2=$(tt "$W/c.kmd" objective=recall_at_precision min_precision=0.2)
r3=$(tt "$W/c.kmd" objective=recall_at_precision min_precision=0.3)
$py -c "import sys; sys.exit(0 if float('$c20') < float('$c1') and float('$r3') >= float('$r2') else 1)" ||
    fail "cost_fn 1 -> 20: $c1 -> $c20 (want lower); precision 0.2 -> 0.3: $r2 -> $r3 (want not lower)"

# a precision no threshold reaches: the most precise one is used, and its
# validation recall is reported as it is (it was 0 whatever the threshold caught)
"$KILN" --json train --data "$LC" --target Class --model tuned_threshold --param positive=bad \
    --param base_params=max_iter=1000 --param objective=recall_at_precision \
    --param min_precision=0.99 --test-size 0 --out "$W/rp.kmd" > "$W/rp.json" 2> "$W/rp.err"
grep -q "no threshold keeps precision 0.99 on the validation rows (the most precise reaches 0\.[0-9]" \
    "$W/rp.err" || fail "no warning for an unreachable precision: $(grep warn "$W/rp.err")"
$py -c "import json, sys; r = json.load(open(sys.argv[1]))['summary']['validation_recall']
assert 0 < r < 1, r" "$W/rp.json" || fail "the fallback threshold's recall: $(cat "$W/rp.json")"

# bad input
expect "tuned_threshold needs two classes (the target has 3)" 1 \
    "$KILN" train --data "$DATA/wine.csv" --target class --model tuned_threshold --out "$W/x.kmd"
expect "positive_class=maybe is not a class of the target (its classes: bad, good)" 1 \
    "$KILN" train --data "$LC" --target Class --model tuned_threshold --param positive=maybe \
    --out "$W/x.kmd"
expect "cost_fp and cost_fn are both 0" 1 "$KILN" train --data "$LC" --target Class \
    --model tuned_threshold --param objective=cost --param cost_fn=0 --param cost_fp=0 --out "$W/x.kmd"
echo ok
