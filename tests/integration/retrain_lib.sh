# The retrain tests' data and specs (source after lib.sh; run in $W).
# concrete_split DATA_DIR: concrete.csv (tests/data) cut at cement's median,
# each side shuffled (seed 0): old.csv (at or under it: what production was
# trained on), fresh.csv (the first 340 rows above it: the retrain's data),
# holdout.csv (the rest above it: the gate's), nolabel.csv (holdout.csv
# without the target), shuffled.csv (fresh.csv with its target permuted: a
# retrain that cannot learn).
concrete_split() {
    $py - "$1" <<'PY'
import sys, numpy as np, pandas as pd
d = pd.read_csv(f"{sys.argv[1]}/concrete.csv")
rs = np.random.RandomState(0)
med = d["cement"].median()
low = d[d.cement <= med].sample(frac=1, random_state=rs)
high = d[d.cement > med].sample(frac=1, random_state=rs)
low.to_csv("old.csv", index=False)
high.iloc[:340].to_csv("fresh.csv", index=False)
high.iloc[340:].to_csv("holdout.csv", index=False)
high.iloc[340:].drop(columns=["compressive_strength"]).to_csv("nolabel.csv", index=False)
s = high.iloc[:340].copy()
s["compressive_strength"] = rs.permutation(s["compressive_strength"].values)
s.to_csv("shuffled.csv", index=False)
PY
}
# retrain_spec NAME MODEL [REGISTER]: a gbdt regression spec on old.csv
# (target $TARGET, default compressive_strength; 20 % test rows; seed 1).
retrain_spec() {
    cat > "$1" <<EOF
sources:
  mix: {file: old.csv}
target: ${TARGET:-compressive_strength}
task: regression
model:
  gbdt: $2
evaluation:
  cv: false
  metrics: [rmse]
  test: {fraction: 0.2}
${3:-}
seed: 1
EOF
}
