#!/bin/bash
# Permutation importance (kiln eval --importance N) on data where the answer
# is known: y depends on x1 strongly, on x2 weakly, not at all on noise.
# The falls must order x1 > x2 > noise with noise about 0, for a forest
# (accuracy) and a ridge regression (R^2, where x1's fall is known: twice
# its share of the variance, 2 * 0.8 = 1.6 up to sampling); and the repeats
# argument is checked.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
$py - "$W" <<'PY'
import sys, random
random.seed(1)
with open(sys.argv[1] + "/d.csv", "w") as f:
    f.write("x1,x2,noise,y,label\n")
    for i in range(2000):
        x1, x2, z = random.gauss(0, 1), random.gauss(0, 1), random.gauss(0, 1)
        y = 2 * x1 + x2 * 0.5 + random.gauss(0, 0.707)  # var 4 + 0.25 + 0.5: x1 ~ 0.84
        f.write(f"{x1:.6f},{x2:.6f},{z:.6f},{y:.6f},{'yes' if x1 + 0.3 * x2 > 0 else 'no'}\n")
PY
"$KILN" -q train --data "$W/d.csv" --target label --ignore y --model random_forest --param n_estimators=30 \
    --test-size 0 --out "$W/rf.kmd" > /dev/null
"$KILN" -q train --data "$W/d.csv" --target y --ignore label --model ridge --param alpha=0 \
    --test-size 0 --out "$W/ridge.kmd" > /dev/null
for m in rf ridge; do
    "$KILN" -q --json eval --model "$W/$m.kmd" --data "$W/d.csv" --importance 5 > "$W/$m.json"
done
$py - "$W" <<'PY'
import sys, json
w = sys.argv[1]
for m in ("rf", "ridge"):
    pi = json.load(open(f"{w}/{m}.json"))["permutation_importance"]
    x1, x2, z = (pi[k]["mean"] for k in ("x1", "x2", "noise"))
    print(f"  {m:6s} x1 {x1:.4f}  x2 {x2:.4f}  noise {z:+.4f} (+- {pi['noise']['std']:.4f})")
    assert x1 > x2 > abs(z), m
    assert abs(z) < 0.01, m
    if m == "ridge": assert abs(x1 - 1.69) < 0.15, x1  # 2 * 4 / 4.75
PY
if "$KILN" -q eval --model "$W/rf.kmd" --data "$W/d.csv" --importance 0 2> "$W/err"; then
    fail "--importance 0 should be refused"
fi
grep -q -- "--importance 0: must be between 1 and 1000" "$W/err" || fail "unexpected message: $(cat "$W/err")"
echo "permutation importance: ok"
