"""Checks Kiln's resampled rows against imbalanced-learn 0.10 (Debian
python3-imblearn): ref_resample.py METHOD IN.csv OUT.csv TARGET [k].

random_over_sampler: the input rows first and unchanged, class counts as
RandomOverSampler's, every added row a copy of a row of its class.
random_under_sampler: class counts as RandomUnderSampler's, every row an
input row of its class, none more often than in the input.
tomek_links, edited_nearest_neighbours: the same rows removed as TomekLinks /
EditedNearestNeighbours (compared as sorted row lists).
smote, borderline_smote, adasyn, smote_nc: class counts as imbalanced-learn's
(ADASYN's rounding included), input rows first and unchanged, and each
synthetic row on a segment between a row of its class and one of that row's
k nearest neighbours in the class (smote_nc: numeric part; neighbours under
SMOTE-NC's distance; categories among those of its class). Prints OK or the
first difference and exits 1."""
import sys

import numpy as np
import pandas as pd
from imblearn import over_sampling as ov, under_sampling as un
from sklearn.neighbors import NearestNeighbors

method, src, out, target = sys.argv[1:5]
k = int(sys.argv[5]) if len(sys.argv) > 5 else 5
a = pd.read_csv(src)
b = pd.read_csv(out)
feat = [c for c in a.columns if c != target]
num = [c for c in feat if a[c].dtype != object]
cat = [c for c in feat if a[c].dtype == object]
X, y = a[feat], a[target].astype(str)


def fail(msg):
    print("FAIL", method, msg)
    sys.exit(1)


def counts(df):
    return df[target].astype(str).value_counts().sort_index().to_dict()


def rows(df):
    return sorted(map(tuple, df[feat + [target]].astype(str).values.tolist()))


def same_counts(ref_y):
    want = pd.Series(ref_y).astype(str).value_counts().sort_index().to_dict()
    if counts(b) != want:
        fail(f"class counts {counts(b)} != imbalanced-learn's {want}")


def prefix_unchanged():
    n = len(a)
    head = b.iloc[:n].reset_index(drop=True)
    same = len(b) >= n and np.array_equal(a[num].to_numpy(float), head[num].to_numpy(float))
    for c in cat + [target]:
        same = same and a[c].astype(str).equals(head[c].astype(str))
    if not same:
        fail("the input rows are not kept first and unchanged")
    return b.iloc[n:]


if method == "random_over_sampler":
    _, ry = ov.RandomOverSampler(random_state=0).fit_resample(X, y)
    same_counts(ry)
    added = prefix_unchanged()
    have = set(map(tuple, a[feat + [target]].astype(str).values.tolist()))
    for r in added[feat + [target]].astype(str).values.tolist():
        if tuple(r) not in have:
            fail(f"added row {r} is no input row")
elif method == "random_under_sampler":
    _, ry = un.RandomUnderSampler(random_state=0).fit_resample(X, y)
    same_counts(ry)
    have = pd.Series(rows(a)).value_counts()
    got = pd.Series(rows(b)).value_counts()
    for r, c in got.items():
        if have.get(r, 0) < c:
            fail(f"row {r} kept {c} times, {have.get(r, 0)} in the input")
elif method in ("tomek_links", "edited_nearest_neighbours"):
    s = un.TomekLinks() if method == "tomek_links" else un.EditedNearestNeighbours(n_neighbors=k)
    rx, ry = s.fit_resample(X, y)
    ref = rx.copy()
    ref[target] = ry
    if rows(ref) != rows(b):
        fail(f"{len(b)} rows kept, imbalanced-learn keeps {len(ref)}; or other rows")
else:
    if method == "smote_nc":
        s = ov.SMOTENC([X.columns.get_loc(c) for c in cat], k_neighbors=k, random_state=0)
    else:
        s = {"smote": ov.SMOTE(k_neighbors=k, random_state=0),
             "borderline_smote": ov.BorderlineSMOTE(k_neighbors=k, random_state=0),
             "adasyn": ov.ADASYN(n_neighbors=k, random_state=0)}[method]
    _, ry = s.fit_resample(X, y)
    same_counts(ry)
    syn = prefix_unchanged()
    # the space neighbours are searched in (SMOTE-NC: one-hot at half the
    # minority's median standard deviation)
    minority = y.value_counts().idxmin()
    Z = a[num].to_numpy(float)
    if cat:
        med = np.median(a.loc[y == minority, num].to_numpy(float).std(axis=0))
        Z = np.hstack([Z, pd.get_dummies(a[cat].astype(str)).to_numpy(float) * med / 2])
    for cls, part in syn.groupby(syn[target].astype(str)):
        part = part.iloc[:: max(1, len(part) // 1000)]  # 1000 of them, spread
        rowsc = np.flatnonzero((y == cls).to_numpy())
        zc, xc = Z[rowsc], a[num].to_numpy(float)[rowsc]
        nb = NearestNeighbors(n_neighbors=k + 1).fit(zc).kneighbors(zc, return_distance=False)
        A = np.repeat(xc, k, axis=0)
        B = xc[nb[:, 1:].ravel()]
        D = B - A
        dd = (D * D).sum(axis=1)
        ok = dd > 0
        A, D, dd = A[ok], D[ok], dd[ok]
        scale = np.abs(A).max(axis=1) + np.abs(D).max(axis=1) + 1
        levels = {c: set(a.loc[y == cls, c].astype(str)) for c in cat}
        s_num = part[num].to_numpy(float)
        for i, p in enumerate(s_num):
            t = ((p - A) * D).sum(axis=1) / dd
            res = np.abs(A + t[:, None] * D - p).max(axis=1) / scale
            hit = (t >= -1e-12) & (t <= 1 + 1e-12) & (res < 1e-9)
            if not hit.any():
                fail(f"synthetic row {i} of class {cls} lies on no segment to a neighbour")
            for c in cat:
                if str(part[c].iloc[i]) not in levels[c]:
                    fail(f"synthetic row {i}: {c}={part[c].iloc[i]} never occurs in class {cls}")
print("OK", method, counts(b))
