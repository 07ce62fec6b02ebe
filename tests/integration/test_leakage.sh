#!/bin/bash
# Leakage: on pure noise (400 normal columns, a 40-level text column, a
# yes/no target with 20 % "yes"; three seeds), a pipeline of target_encoder
# + a univariate selector (F-test, 10 columns) + SMOTE + logistic
# regression scores chance under kiln cv, which fits the steps inside each
# training fold, and clearly above chance under the leaky protocol that fits
# the same steps on all rows first (kiln prep) and cross-validates after:
# the selector then picks the columns that happen to track the target in the
# validation rows too. Balanced accuracy: honest under 0.58 on every seed
# and 0.44-0.56 on average; leaky at least 0.08 above honest on every seed
# and above 0.62 on average.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
steps=(--step target_encoder --step "select:method=f_test;k=10" --step smote)
bacc() { "$KILN" -q --json cv "$@" 2> /dev/null |
    $py -c "import json, sys; print(json.load(sys.stdin)['mean']['balanced_accuracy'])"; }
: > "$W/scores"
for seed in 1 2 3; do
    $py - "$W/noise.csv" "$seed" <<'PY'
import sys, numpy as np, pandas as pd
path, seed = sys.argv[1], int(sys.argv[2])
r = np.random.default_rng(seed); n = 600
d = pd.DataFrame(r.normal(size=(n, 400)), columns=[f"x{i}" for i in range(400)])
d["cat"] = r.choice([f"c{i}" for i in range(40)], n)
d["y"] = np.where(r.random(n) < 0.2, "yes", "no")
d.to_csv(path, index=False)
PY
    honest=$(bacc --data "$W/noise.csv" --target y --model logistic_regression "${steps[@]}")
    "$KILN" -q prep "$W/noise.csv" "$W/leak.csv" --target y "${steps[@]}"
    leaky=$(bacc --data "$W/leak.csv" --target y --model logistic_regression)
    echo "seed $seed: kiln cv $honest, steps fitted before the folds $leaky"
    echo "$honest $leaky" >> "$W/scores"
done
$py - "$W/scores" <<'PY' || fail "leakage: the honest protocol is not at chance or the leaky one not above it"
import sys, numpy as np
s = np.loadtxt(sys.argv[1], ndmin=2); h, l = s[:, 0], s[:, 1]
print(f"mean: honest {h.mean():.3f}, leaky {l.mean():.3f}")
sys.exit(0 if (h < 0.58).all() and 0.44 <= h.mean() <= 0.56 and (l >= h + 0.08).all() and l.mean() > 0.62 else 1)
PY
echo "leakage: honest at chance, leaky above it"
