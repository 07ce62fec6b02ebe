#!/bin/bash
# Learning and validation curves in the run report: a run whose spec asks
# for evaluation: learning_curve: 4 and validation_curve: {param:
# max_depth, values: [...]} (a decision tree on wine, stratified 3-fold CV)
# gets a "Learning and validation curves" section with one inline SVG per
# curve (well-formed XML with a width, height and viewBox; one line each
# for train and validation) and a table of the numbers: training rows
# growing, and a deeper tree scoring at least as well on its own training
# rows. The same spec and seed give the same report bytes; a run without
# curves has no such section; a curve over a parameter the model lacks, or
# a learning curve of one size, is refused before any work.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
cp "$DATA/wine.csv" "$W/wine.csv"
cd "$W"
export KILN_DETERMINISTIC_TIME=1

spec() { # name, extra evaluation lines
    cat > "$1.yaml" << YAML
sources: {d: {file: wine.csv}}
target: class
model: {decision_tree: {}}
evaluation:
  cv: {folds: 3, split: stratified, shuffle: true}
  metrics: [accuracy]
  test: {fraction: 0.25}
$2
seed: 2
YAML
}
spec w "  learning_curve: 4
  validation_curve: {param: max_depth, values: [1, 2, 3, 5]}"
spec plain ""
for r in a b; do
    rm -f w.kiln
    "$KILN" -q run w.yaml --no-store --out w.kiln > /dev/null 2> run.err || fail "run: $(cat run.err)"
    "$KILN" -q report w.kiln --out w$r.html 2> err.txt || fail "report: $(cat err.txt)"
done
cmp -s wa.html wb.html || fail "the same spec and seed gave different reports"
"$KILN" -q run plain.yaml --no-store --out plain.kiln > /dev/null 2>&1 || fail "run plain"
"$KILN" -q report plain.kiln --out plain.html
grep -q 'id="curves"' plain.html && fail "a run without curves has a curves section"

$py - wa.html <<'PY' || fail "the curves section"
import re, sys, xml.etree.ElementTree as ET
html = open(sys.argv[1], encoding="utf-8").read()
start = html.index('<section id="curves">')
sec = html[start:html.index("</section>", start)]
assert "<h2>Learning and validation curves</h2>" in sec
svgs = re.findall(r"<svg .*?</svg>", sec, re.S)
assert len(svgs) == 2, len(svgs)
for s in svgs:
    e = ET.fromstring(s)
    w, h = float(e.get("width")), float(e.get("height"))
    assert w > 0 and h > 0 and [float(v) for v in e.get("viewBox").split()] == [0, 0, w, h]
    assert len(e.findall(".//{http://www.w3.org/2000/svg}polyline")) == 2, s[:300]
    assert "train" in s and "validation" in s
tables = re.findall(r"<table>(.*?)</table>", sec, re.S)
assert len(tables) == 2, len(tables)
def rows(t):
    return [re.findall(r'<td class="n">([^<]*)</td>', r) for r in re.findall(r"<tr><td.*?</tr>", t)]
learn, valid = rows(tables[0]), rows(tables[1])
assert len(learn) == 4 and len(valid) == 4, (learn, valid)
sizes = [float(r[0]) for r in learn]
assert sizes == sorted(sizes) and sizes[0] < sizes[-1], sizes
assert [r[0] for r in valid] == ["1", "2", "3", "5"], valid
train = [float(r[1].split(" ")[0]) for r in valid]
assert all(a <= b + 1e-12 for a, b in zip(train, train[1:])), train
print("curves: learning rows", sizes, "; validation train", train)
PY

spec bad "  validation_curve: {param: depth, values: [1, 2]}"
sed -i 's/wine.csv/missing.csv/' bad.yaml
expect "bad.yaml.*validation_curve: .*depth" 1 "$KILN" run bad.yaml --no-store --out bad.kiln
spec one "  learning_curve: 1"
expect "one.yaml:.*learning_curve: 1 is outside 2..50" 1 "$KILN" run one.yaml --no-store --out one.kiln
