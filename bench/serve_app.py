"""The Flask + scikit-learn server bench/serve compares kiln serve with (run
under gunicorn, 2 sync workers): the same request body as kiln's v1 route,
{"instances": [{"x0": .., .., "x19": ..}]}, and the same response shape,
{"predictions": [{"label": .., "probabilities": {class: p}}]}.

POST /v1/models/lr:predict    StandardScaler + LogisticRegression (a Pipeline)
POST /v1/models/gbdt:predict  HistGradientBoostingClassifier, 200 iterations
GET  /health

The models are pickles in $KILN_BENCH_MODELS (lr.pkl, gbdt.pkl), written
by bench/serve from the same CSV kiln trains on.
"""
import os
import pickle

import numpy as np
from flask import Flask, abort, jsonify, request

DIR = os.environ["KILN_BENCH_MODELS"]
MODELS = {}
for name in ("lr", "gbdt"):
    with open(os.path.join(DIR, name + ".pkl"), "rb") as f:
        MODELS[name] = pickle.load(f)
COLS = [f"x{i}" for i in range(20)]

app = Flask(__name__)


@app.post("/v1/models/<name>:predict")
def predict(name):
    model = MODELS.get(name)
    if model is None:
        abort(404)
    rows = request.get_json(force=True)["instances"]
    x = np.array([[float(r[c]) for c in COLS] for r in rows], dtype=np.float64)
    proba = model.predict_proba(x)
    classes = [str(c) for c in model.classes_]
    out = [
        {"label": classes[int(np.argmax(p))], "probabilities": dict(zip(classes, map(float, p)))}
        for p in proba
    ]
    return jsonify(predictions=out)


@app.get("/health")
def health():
    return "ok\n"
