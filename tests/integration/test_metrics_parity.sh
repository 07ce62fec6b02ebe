#!/bin/bash
# Every Kiln metric against sklearn.metrics (Debian's python3-sklearn through
# /usr/bin/python3) on the same predictions, unweighted and with sample
# weights: max |difference| <= 1e-12 (relative for values above 1). Cases:
# a real-looking binary problem, a 4-class one, scores with many ties, one
# class predicted only, and a class never predicted (zero division).
set -euo pipefail
PROBE=${METRICS_PROBE:?path to the metrics_probe test tool}
. "$(dirname "$0")/lib.sh"
require_sklearn
for case in binary multiclass ties one_predicted never_predicted; do
    k=$($py - "$case" "$W/$case.csv" <<'PY'
import sys, numpy as np
case, path = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(7)
n = 2000
k = 4 if case == "multiclass" else 2
y = rng.integers(0, k, n)
logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
if case == "ties":
    proba = np.round(proba, 1); proba[:, 1] = 1 - proba[:, 0]
pred = proba.argmax(axis=1)
if case == "one_predicted": pred[:] = 1
if case == "never_predicted": pred[pred == 0] = 1
score = proba[:, 1]
w = rng.uniform(0.1, 3, n)
yr = rng.gamma(2.0, 2.0, n) + 0.01
pr = yr * rng.uniform(0.5, 1.5, n) + 0.01
with open(path, "w") as f:
    for i in range(n):
        f.write(",".join([str(y[i]), str(pred[i]), repr(score[i]), repr(w[i])] +
                         [repr(p) for p in proba[i]] + [repr(yr[i]), repr(pr[i])]) + "\n")
print(k)
PY
)
    "$PROBE" "$W/$case.csv" "$k" > "$W/$case.json"
    $py - "$W/$case.csv" "$W/$case.json" "$k" "$case" <<'PY'
import sys, json, warnings, numpy as np
warnings.simplefilter("ignore")
import sklearn.metrics as M
rows = np.loadtxt(sys.argv[1], delimiter=",")
got = json.loads("[" + open(sys.argv[2]).read().replace("}{", "},{").replace("}, \"weighted\": {", "},{") + "]")
k = int(sys.argv[3])
y, pred, score, w = rows[:, 0].astype(int), rows[:, 1].astype(int), rows[:, 2], rows[:, 3]
proba, yr, pr = rows[:, 4:4 + k], rows[:, 4 + k], rows[:, 5 + k]
labels = list(range(k))
def want(sw):
    r = {"accuracy": M.accuracy_score(y, pred, sample_weight=sw),
         "balanced_accuracy": M.balanced_accuracy_score(y, pred, sample_weight=sw)}
    for a in (["binary"] if k == 2 else []) + ["macro", "micro", "weighted"]:
        r[f"precision_{a}"] = M.precision_score(y, pred, average=a, sample_weight=sw, zero_division=0)
        r[f"recall_{a}"] = M.recall_score(y, pred, average=a, sample_weight=sw, zero_division=0)
        r[f"f1_{a}"] = M.f1_score(y, pred, average=a, sample_weight=sw, zero_division=0)
    r["mcc"] = M.matthews_corrcoef(y, pred, sample_weight=sw)
    r["cohen_kappa"] = M.cohen_kappa_score(y, pred, sample_weight=sw)
    if k == 2:
        r["roc_auc"] = M.roc_auc_score(y, score, sample_weight=sw)
        r["average_precision"] = M.average_precision_score(y, score, sample_weight=sw)
        r["brier"] = M.brier_score_loss(y, score, sample_weight=sw)
        for drop, sfx in ((False, "_all"), (True, "")):
            fpr, tpr, thr = M.roc_curve(y, score, sample_weight=sw, drop_intermediate=drop)
            r["roc_fpr" + sfx], r["roc_tpr" + sfx], r["roc_thr" + sfx] = fpr, tpr, thr
        r["pr_precision"], r["pr_recall"], r["pr_thr"] = M.precision_recall_curve(y, score, sample_weight=sw)
        from sklearn.calibration import calibration_curve
        for strategy in ("uniform", "quantile"):
            for bins in (5, 10):
                t_, p_ = calibration_curve(y, score, n_bins=bins, strategy=strategy)
                r[f"cal_true_{strategy}_{bins}"], r[f"cal_pred_{strategy}_{bins}"] = t_, p_
    else:
        r["roc_auc_ovr_macro"] = M.roc_auc_score(y, proba, multi_class="ovr", average="macro", sample_weight=sw)
        r["roc_auc_ovr_weighted"] = M.roc_auc_score(y, proba, multi_class="ovr", average="weighted", sample_weight=sw)
    r["log_loss"] = M.log_loss(y, proba, sample_weight=sw, labels=labels)
    r["mse"] = M.mean_squared_error(yr, pr, sample_weight=sw)
    r["rmse"] = M.mean_squared_error(yr, pr, sample_weight=sw, squared=False)
    r["mae"] = M.mean_absolute_error(yr, pr, sample_weight=sw)
    r["mape"] = M.mean_absolute_percentage_error(yr, pr, sample_weight=sw)
    r["median_ae"] = M.median_absolute_error(yr, pr, sample_weight=sw)
    r["r2"] = M.r2_score(yr, pr, sample_weight=sw)
    r["explained_variance"] = M.explained_variance_score(yr, pr, sample_weight=sw)
    r["poisson_deviance"] = M.mean_poisson_deviance(yr, pr, sample_weight=sw)
    r["gamma_deviance"] = M.mean_gamma_deviance(yr, pr, sample_weight=sw)
    r["tweedie_1_5"] = M.mean_tweedie_deviance(yr, pr, power=1.5, sample_weight=sw)
    r["tweedie_3"] = M.mean_tweedie_deviance(yr, pr, power=3, sample_weight=sw)
    r["tweedie_neg"] = M.mean_tweedie_deviance(yr, pr, power=-1, sample_weight=sw)
    return r
worst, where = 0.0, ""
curves_checked = set()
for g, sw in zip(got, (None, w)):
    for name, v in want(sw).items():
        assert name in g and g[name] is not None, (sys.argv[4], name, g.get(name))
        if isinstance(v, np.ndarray):  # a curve: same points, each within tolerance
            a = np.array(g[name], dtype=float)
            assert a.shape == v.shape, (sys.argv[4], name, a.shape, v.shape)
            d = np.max(np.abs(a - v) / np.maximum(1.0, np.abs(v)), initial=0)
            curves_checked.add(name)
        else:
            d = abs(g[name] - v) / max(1.0, abs(v))
        if d > worst: worst, where = d, name
        assert d <= 1e-12, (sys.argv[4], name, "weighted" if sw is not None else "", g[name], v)
print(f"metrics {sys.argv[4]:16s} {len(got[0])} metrics and curves x (unweighted, weighted): max difference {worst:.2g} ({where}); curves: {len(curves_checked)}")
PY
done
# ROC-AUC with one class present is undefined (sklearn raises; kiln reports it)
printf '1,1,0.3,1,0.7,0.3,1,1\n1,1,0.8,1,0.2,0.8,2,2\n' > "$W/one.csv"
"$PROBE" "$W/one.csv" 2 | grep -q '"roc_auc": null' || { echo "FAIL: one-class ROC-AUC" >&2; exit 1; }
echo "metrics parity: all passed"
