#!/bin/bash
# target_encoder with a class target: two classes encode as 1 for the class
# that sorts last ("yes") and 0 for the other, giving exactly the columns of
# the same data with a 0/1 target; more than two classes is a clear error
# naming the fix (a 0/1 column as target=).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
$py - "$W" <<'PY'
import sys, numpy as np, pandas as pd
w = sys.argv[1]
r = np.random.default_rng(3); n = 300
d = pd.DataFrame({"city": r.choice(list("abcdefg"), n), "x": r.normal(size=n)})
y = r.random(n) < 0.3
d.assign(y=np.where(y, "yes", "no")).to_csv(f"{w}/text.csv", index=False)
d.assign(y=y.astype(int)).to_csv(f"{w}/num.csv", index=False)
d.assign(y=r.choice(["lo", "mid", "hi"], n)).to_csv(f"{w}/three.csv", index=False)
PY
for f in text num; do
    "$KILN" -q prep "$W/$f.csv" "$W/$f.out.csv" --target y --step target_encoder
    cut -d, -f1,2 "$W/$f.out.csv" > "$W/$f.enc"
done
head -1 "$W/text.out.csv" | grep -q city || fail "no encoded column: $(head -1 "$W/text.out.csv")"
cmp -s "$W/text.enc" "$W/num.enc" || fail "a yes/no target encodes otherwise than 0/1: $(diff "$W/text.enc" "$W/num.enc" | head -4)"
expect "more than two classes.*target=COLUMN" 1 "$KILN" -q prep "$W/three.csv" "$W/x.csv" --target y --step target_encoder
echo "target_encoder: two-class targets as 0/1, more classes refused"
