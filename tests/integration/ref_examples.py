# scikit-learn's side of the example specs (examples/*.yaml): the same
# protocol as `kiln run`, on the same rows. Run with Debian's python3:
#
#     ref_examples.py NAME EXAMPLES_DIR OUT_DIR [CREDIT_CSV]
#
# The data go through what the spec asks before any model (schema
# quarantine, whole-row dedupe, joins); then Kiln's seeded splits are
# reproduced exactly: the test hold-out (kn_split_shares: per class a
# Fisher-Yates shuffle by xoshiro256** seeded through splitmix64, parts
# sized by largest remainder) and the CV folds on the training rows
# (kn_split_folds: k-fold blocks or stratified dealing, shuffled with the
# stream (seed, 0) when the spec shuffles). Each fold and the final model
# are fitted as a scikit-learn Pipeline with the spec's steps.
#
# Writes OUT_DIR/NAME.ref.json: {"cv": {"folds": [{metric: value}], "mean",
# "std" (population)}, "test": {metric: value}, "rows_train", "rows_test",
# "metrics", "rows" (credit: rows in, quarantined, deduplicated)}, and OUT_DIR/NAME.train.csv, the training rows as Kiln sees
# them (for `kiln cv` on the same folds).
import json
import sys
import warnings

import numpy as np
import pandas as pd

warnings.simplefilter("ignore")
from sklearn import metrics as skm  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression, PoissonRegressor, Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

M64 = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return x, z ^ (z >> 31)


class KnRng:
    """kn_rng (src/core/rng.c): xoshiro256** seeded through splitmix64."""

    def __init__(self, seed, stream=None):
        if stream is not None:
            _, mix = splitmix64(stream)
            seed ^= mix
        x, self.s = seed, []
        for _ in range(4):
            x, z = splitmix64(x)
            self.s.append(z)

    def next(self):
        s = self.s
        rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & M64  # noqa: E731
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, n):  # Lemire's multiply-and-reject
        m = self.next() * n
        if (m & M64) < n:
            threshold = ((1 << 64) - n) % n
            while (m & M64) < threshold:
                m = self.next() * n
        return m >> 64

    def shuffle(self, v):
        for i in range(len(v), 1, -1):
            j = self.below(i)
            v[i - 1], v[j] = v[j], v[i - 1]


def label_codes(y):
    """kn_split_labels: codes of the sorted distinct labels."""
    return np.unique(np.asarray(y), return_inverse=True)[1]


def split_shares(n, strata, shares, seed):
    """kn_split_shares: part index arrays (ascending)."""
    rng = KnRng(seed)
    parts = [[] for _ in shares]
    n_strata = int(strata.max()) + 1 if strata is not None and n else 1
    for s in range(n_strata):
        rows = [i for i in range(n) if strata is None or strata[i] == s]
        rng.shuffle(rows)
        m = len(rows)
        sizes = [int(np.floor(sh * m)) for sh in shares]
        while sum(sizes) < m:
            fracs = [sh * m - sz for sh, sz in zip(shares, sizes)]
            sizes[int(np.argmax(fracs))] += 1  # the earlier part on a tie
        pos = 0
        for p, sz in enumerate(sizes):
            parts[p] += rows[pos:pos + sz]
            pos += sz
    return [np.array(sorted(p), dtype=int) for p in parts]


def kn_folds(n, k, kind, shuffle, seed, labels=None):
    """kn_split_folds, one repeat: [(train, test)] index arrays."""
    rng = KnRng(seed, 0) if shuffle else None
    test_fold = np.zeros(n, dtype=int)
    if kind == "kfold":
        order = list(range(n))
        if rng:
            rng.shuffle(order)
        pos = 0
        for f in range(k):
            size = n // k + (f < n % k)
            test_fold[order[pos:pos + size]] = f
            pos += size
    else:  # stratified: classes in order of first appearance, dealt to folds in turn
        rank, counts = {}, []
        for c in labels:
            if c not in rank:
                rank[c] = len(rank)
                counts.append(0)
            counts[rank[c]] += 1
        alloc = np.zeros((k, len(counts)), dtype=int)
        start = 0
        for c, cnt in enumerate(counts):
            for p in range(start, start + cnt):
                alloc[p % k, c] += 1
            start += cnt
        ranks = np.array([rank[c] for c in labels])
        for c in range(len(counts)):
            lst = [f for f in range(k) for _ in range(alloc[f, c])]
            if rng:
                rng.shuffle(lst)
            test_fold[np.flatnonzero(ranks == c)] = lst
    return [(np.flatnonzero(test_fold != f), np.flatnonzero(test_fold == f)) for f in range(k)]


def onehot(cats, **kw):
    return ColumnTransformer([("onehot", OneHotEncoder(sparse_output=False, **kw), cats)],
                             remainder="passthrough")


# --- the examples: data as Kiln's prep leaves it, the spec's protocol, the pipeline


def credit(ex, csv):
    d = pd.read_csv(csv)
    bad = (d.age < 18) | (d.age > 100) | (d.income < 0) | (d.credit_score < 300) | \
        (d.credit_score > 850)
    rows = {"in": len(d), "quarantined": int(bad.sum())}
    d = d[~bad].drop_duplicates().reset_index(drop=True)  # quarantine, then dedupe: true
    rows["deduplicated"] = rows["in"] - rows["quarantined"] - len(d)
    raw = d.copy()
    d = d.drop(columns="id")  # ignore: [id]
    t = pd.to_datetime(d.pop("application_date"), utc=True)
    y = d.pop("default")
    cats = ["employment_type", "home_ownership", "region", "purpose"]
    for c in cats:
        d[c] = d[c].astype("category").cat.codes.replace(-1, np.nan)
    # datetime_features: year, month, day, day of week, hour, is-weekend
    d["year"], d["month"], d["day"] = t.dt.year, t.dt.month, t.dt.day
    d["dow"], d["hour"], d["weekend"] = t.dt.dayofweek, t.dt.hour, (t.dt.dayofweek >= 5) * 1
    model = lambda: HistGradientBoostingClassifier(  # noqa: E731
        max_iter=100, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20,
        l2_regularization=0, max_bins=255, early_stopping=False,
        categorical_features=[c in cats for c in d.columns])
    return dict(rows=rows, raw=raw, X=d, y=y.to_numpy(), positive=1, model=model, seed=42, fraction=0.2,
                kind="stratified", shuffle=True, folds=5,
                metrics=["roc_auc", "log_loss", "accuracy", "average_precision"])


def house_votes(ex, _):
    d = pd.read_csv(f"{ex}/data/house_votes84.csv", keep_default_na=False, na_values=[""])
    raw = d.copy()
    y = d.pop("Class")
    model = lambda: make_pipeline(  # noqa: E731
        SimpleImputer(strategy="constant", fill_value="absent"),
        OneHotEncoder(handle_unknown="ignore"),
        LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-12, max_iter=1000))
    return dict(raw=raw, X=d, y=y.to_numpy(), positive="republican", model=model, seed=7, fraction=0.2,
                kind="stratified", shuffle=False, folds=5,
                metrics=["accuracy", "balanced_accuracy", "roc_auc", "log_loss"])


def wages(ex, _):
    d = pd.read_csv(f"{ex}/data/cps1985.csv")
    raw = d.copy()
    y = d.pop("wage")
    cats = [c for c in d.columns if d[c].dtype == object]
    model = lambda: make_pipeline(onehot(cats, handle_unknown="ignore"),  # noqa: E731
                                  StandardScaler(), Ridge(alpha=1.0))
    return dict(raw=raw, X=d, y=y.to_numpy(dtype=float), model=model, seed=11, fraction=0.2,
                kind="kfold", shuffle=True, folds=5, metrics=["rmse", "mae", "r2"])


def warpbreaks(ex, _):
    d = pd.read_csv(f"{ex}/data/warpbreaks.csv")
    raw = d.copy()
    y = d.pop("breaks")
    model = lambda: make_pipeline(onehot(["wool", "tension"], drop="first"),  # noqa: E731
                                  PoissonRegressor(alpha=0, tol=1e-12, max_iter=100000))
    return dict(raw=raw, X=d, y=y.to_numpy(dtype=float), model=model, seed=3, fraction=0.2,
                kind="kfold", shuffle=True, folds=5, metrics=["poisson_deviance", "rmse", "mae"])


def loans_sqlite(ex, _):
    loans = pd.read_csv(f"{ex}/data/lending_club.csv")
    states = pd.read_csv(f"{ex}/data/us_states.csv")
    d = loans.merge(states, how="left", left_on="addr_state", right_on="state", sort=False)
    d = d.drop(columns="state")
    assert len(d) == len(loans) and d.census_region.notna().all()
    raw = d.copy()
    y = d.pop("Class")
    cats = [c for c in d.columns if d[c].dtype == object]
    model = lambda: make_pipeline(onehot(cats, handle_unknown="ignore"),  # noqa: E731
                                  StandardScaler(),
                                  LogisticRegression(C=0.1, solver="newton-cholesky", tol=1e-12, max_iter=1000))
    return dict(raw=raw, X=d, y=y.to_numpy(), positive="bad", model=model, seed=5, fraction=0.2,
                kind="stratified", shuffle=False, folds=5,
                metrics=["roc_auc", "average_precision", "log_loss", "accuracy"])


def score(name, est, X, y, positive):
    if name in ("rmse", "mae", "r2", "poisson_deviance"):
        p = est.predict(X)
        return {"rmse": lambda: skm.mean_squared_error(y, p) ** 0.5,
                "mae": lambda: skm.mean_absolute_error(y, p),
                "r2": lambda: skm.r2_score(y, p),
                "poisson_deviance": lambda: skm.mean_poisson_deviance(y, p)}[name]()
    classes = list(est.classes_)
    proba = est.predict_proba(X)
    label = np.asarray(classes)[proba.argmax(axis=1)]
    yo = np.asarray(y)
    if name == "accuracy":
        return skm.accuracy_score(yo, label)
    if name == "balanced_accuracy":
        return skm.balanced_accuracy_score(yo, label)
    if name == "log_loss":
        return skm.log_loss(yo, proba, labels=classes)
    pos = proba[:, classes.index(positive)]
    if name == "roc_auc":
        return skm.roc_auc_score(yo == positive, pos)
    if name == "average_precision":
        return skm.average_precision_score(yo == positive, pos)
    raise ValueError(name)


def main():
    name, ex, out = sys.argv[1:4]
    csv = sys.argv[4] if len(sys.argv) > 4 else None
    e = globals()[name](ex, csv)
    X, y, n = e["X"], e["y"], len(e["y"])
    classify = "positive" in e
    strata = label_codes(y) if classify else None
    train, test = split_shares(n, strata, [1 - e["fraction"], e["fraction"]], e["seed"])
    Xtr, ytr = X.iloc[train].reset_index(drop=True), y[train]
    labels = label_codes(ytr) if classify else None
    folds = kn_folds(len(train), e["folds"], e["kind"], e["shuffle"], e["seed"], labels)
    pos = e.get("positive")
    cv = []
    for tr, te in folds:
        est = e["model"]().fit(Xtr.iloc[tr], ytr[tr])
        cv.append({m: float(score(m, est, Xtr.iloc[te], ytr[te], pos)) for m in e["metrics"]})
    est = e["model"]().fit(Xtr, ytr)
    tst = {m: float(score(m, est, X.iloc[test], y[test], pos)) for m in e["metrics"]}
    res = {"metrics": e["metrics"], "rows_train": len(train), "rows_test": len(test),
           "rows": e.get("rows"),
           "cv": {"folds": cv,
                  "mean": {m: float(np.mean([f[m] for f in cv])) for m in e["metrics"]},
                  "std": {m: float(np.std([f[m] for f in cv])) for m in e["metrics"]}},
           "test": tst}
    e["raw"].iloc[train].to_csv(f"{out}/{name}.train.csv", index=False)
    json.dump(res, open(f"{out}/{name}.ref.json", "w"), indent=1)
    print(f"{name:13s} scikit-learn: {len(train)} training rows, {len(test)} test rows; "
          + ", ".join(f"{m} cv {res['cv']['mean'][m]:.4f} test {tst[m]:.4f}"
                      for m in e["metrics"][:2]))


if __name__ == "__main__":
    main()
