"""The Python side of bench/small: one workload as a scikit-learn user
writes it. pandas reads the CSV, a fifth is held out (stratified for a
classifier), 5-fold CV (shuffled; stratified for a classifier) of the
pipeline on the rest with cross_val_score, the fit on all of the rest, one
score on the held-out rows, joblib.dump of the fitted pipeline.
usage: small_ref.py WORKLOAD CSV TARGET N_JOBS OUT_DIR
Prints "inner SECONDS SCORE": the seconds after the imports (reading
included), the held-out score. Threads: N_JOBS for cross_val_score's folds
(lr, knn), the forest's trees (rf), GridSearchCV's trials (tune); gbdt
models get N_JOBS threads of their own (OMP_NUM_THREADS, XGBoost's
n_jobs) and folds one at a time."""
import sys, time, warnings

warnings.simplefilter("ignore")
import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import (GridSearchCV, KFold, StratifiedKFold,
                                     cross_val_score, train_test_split)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

work, csv, target, n_jobs, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
if work.startswith("gbdt_xgb"):
    from xgboost import XGBClassifier, XGBRegressor
if work.startswith(("gbdt_hgb", "tune")):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
if work.startswith("rf"):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
if work.startswith("knn"):
    from sklearn.neighbors import KNeighborsClassifier
if work.startswith("lr"):
    from sklearn.linear_model import LogisticRegression

t0 = time.perf_counter()
df = pd.read_csv(csv)
y = df.pop(target)
clf = y.dtype == object
text = [c for c in df.columns if df[c].dtype == object]
num = [c for c in df.columns if c not in text]


def prep(scale):
    parts = [("num", StandardScaler() if scale else "passthrough", num)]
    if text:
        # HistGradientBoosting takes dense input only
        dense = work.startswith(("gbdt_hgb", "tune"))
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=not dense), text))
    return ColumnTransformer(parts)


def model():
    if work.startswith("lr"):
        return prep(True), LogisticRegression(C=1.0, max_iter=1000)
    if work.startswith("knn"):
        return prep(True), KNeighborsClassifier(n_neighbors=5)
    if work.startswith("rf"):
        m = RandomForestClassifier if clf else RandomForestRegressor
        return prep(False), m(n_estimators=100, n_jobs=n_jobs, random_state=0)
    if work.startswith("gbdt_hgb") or work.startswith("tune"):
        m = HistGradientBoostingClassifier if clf else HistGradientBoostingRegressor
        return prep(False), m(max_iter=100, learning_rate=0.1, max_leaf_nodes=31,
                              min_samples_leaf=20, early_stopping=False, random_state=0)
    if work.startswith("gbdt_xgb"):
        m = XGBClassifier if clf else XGBRegressor
        return prep(False), m(n_estimators=100, learning_rate=0.1, tree_method="hist",
                              grow_policy="lossguide", max_leaves=31, max_depth=0,
                              n_jobs=n_jobs, random_state=0)
    raise SystemExit("unknown workload " + work)


p, m = model()
if work.startswith("gbdt_xgb") and clf:
    y = pd.Series(pd.Categorical(y).codes, index=y.index)
strat = y if clf else None
Xtr, Xte, ytr, yte = train_test_split(df, y, test_size=0.2, random_state=1, stratify=strat)
folds = (StratifiedKFold if clf else KFold)(5, shuffle=True, random_state=1)
pipe = make_pipeline(p, m)
fold_jobs = n_jobs if work.startswith(("lr", "knn")) else 1
if work.startswith("tune"):
    grid = {"histgradientboosting" + ("classifier" if clf else "regressor") + "__" + k: v
            for k, v in {"learning_rate": [0.05, 0.1, 0.2], "max_leaf_nodes": [8, 31]}.items()}
    search = GridSearchCV(pipe, grid, cv=folds, n_jobs=n_jobs, refit=True).fit(Xtr, ytr)
    fitted = search.best_estimator_
else:
    cross_val_score(pipe, Xtr, ytr, cv=folds, n_jobs=fold_jobs)
    fitted = pipe.fit(Xtr, ytr)
score = fitted.score(Xte, yte)
joblib.dump(fitted, out + "/model.joblib")
print(f"inner {time.perf_counter() - t0:.4f} {score:.4f}")
