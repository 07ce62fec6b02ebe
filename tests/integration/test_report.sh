#!/bin/bash
# kiln report: the HTML report of a run, by file, run id and model version,
# rendered in headless Chromium: the page loads without console messages,
# every figure is well-formed SVG with a non-zero rendered size, nothing is
# fetched, and a screenshot comes out. The same run gives the same bytes.
# Without chromium the test skips (exit 77), except in CI.
set -u
. "$(dirname "$0")/lib.sh"
K=${KILN:?}
D=${KILN_TEST_DATA:?}
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
    if [ "${CI:-}" = true ]; then fail "chromium is missing in CI (scripts/bootstrap installs it)"; fi
    echo "SKIP: chromium not installed (scripts/bootstrap installs it)"
    exit 77
fi
cp "$D/lending_club.csv" "$W/loans.csv"
cp "$D/concrete.csv" "$W/concrete.csv"
cd "$W" || exit 1

cat > loans.yaml <<'YAML'
sources:
  loans: {file: loans.csv}
target: Class
model:
  gbdt: {n_estimators: 30}
evaluation:
  cv: {folds: 3, split: stratified}
  metrics: [roc_auc, average_precision, accuracy]
  positive_class: bad
  test: {fraction: 0.25}
register: {name: loans}
seed: 3
description: Flags loan applications likely to go bad <for review & triage>
YAML
cat > concrete.yaml <<'YAML'
sources:
  mix: {file: concrete.csv}
target: compressive_strength
model:
  linear_regression: {}
evaluation:
  cv: {folds: 4}
  test: {fraction: 0.2}
YAML
$K run loans.yaml --store st --out loans.kiln --quiet > /dev/null 2> run.err || fail "run: $(cat run.err)"
$K run concrete.yaml --store st --quiet > /dev/null 2> run.err || fail "run: $(cat run.err)"

# 1. by run id, by model version and by file; the same run twice: the same bytes
$K report r000001 --store st --out run.html > out.txt 2> err.txt || fail "report RUN: $(cat err.txt)"
grep -q "report: wrote run.html" out.txt || fail "report RUN printed: $(cat out.txt)"
$K report r000001 --store st --out again.html 2> err.txt || fail "report again: $(cat err.txt)"
cmp -s run.html again.html || fail "the same run gave different reports"
$K report loans@v1 --store st --out model.html 2> err.txt || fail "report MODEL@vN: $(cat err.txt)"
$K report loans.kiln --out file.html 2> err.txt || fail "report FILE: $(cat err.txt)"
$K report latest --store st --out regression.html 2> err.txt || fail "report latest: $(cat err.txt)"
grep -q "Resources and cost are kept in the store" file.html || fail "a file report claims resources"
grep -q "<td>cv</td>" run.html || fail "the run's stages are missing from its report"
grep -q "r000001" model.html || fail "the model version's report does not name its run"
grep -q "Residuals against predictions" regression.html || fail "no residuals in the regression report"
grep -q "Flags loan applications likely to go bad &lt;for review &amp; triage&gt;" run.html ||
    fail "the intended use is missing or not escaped"

# 2. the errors: unknown reference, missing store, unwritable output
expect "neither a file, a run nor a model" 1 $K report nothing --store st --out x.html
expect "has no version 7" 1 $K report loans@v7 --store st --out x.html
expect "no store at" 1 $K report r000001 --store missing --out x.html
expect "cannot write /dev/full" 1 $K report loans.kiln --out /dev/full
[ ! -e x.html ] || fail "a failed report left x.html"

# 3. self-contained: no scripts, nothing fetched; every <svg> is XML with a
#    width, a height and a viewBox
$py - run.html regression.html <<'PY' || fail "the report's markup"
import re, sys, xml.etree.ElementTree as ET
for path in sys.argv[1:]:
    html = open(path, encoding="utf-8").read()
    assert "<script" not in html.lower(), path
    refs = re.findall(r'(?:src|href)="([^"#][^"]*)"', html)
    assert not refs, (path, refs)
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) >= 5, (path, len(svgs))
    for s in svgs:
        e = ET.fromstring(s)  # well-formed, text escaped
        w, h = float(e.get("width")), float(e.get("height"))
        vb = [float(v) for v in e.get("viewBox").split()]
        assert w > 0 and h > 0 and vb == [0, 0, w, h], (path, e.attrib)
PY

# 4. in Chromium: no console message; every figure's rendered box is not
#    empty (a test-only script in a copy of the page writes the sizes)
run_chrome() {
    timeout 120 "$chrome" --headless --disable-gpu --no-sandbox --hide-scrollbars \
        --enable-logging=stderr --v=0 --user-data-dir="$W/profile" "$@"
}
# (one load a page: the copy holds all of the page, and its script only reads)
for page in run regression; do
    sed 's|</body>|<script>var o=[];document.querySelectorAll("svg").forEach(function(s){var r=s.getBoundingClientRect();o.push(r.width+"x"+r.height)});var p=document.createElement("pre");p.id="kiln-sizes";p.textContent=o.join(" ");document.body.appendChild(p);</script></body>|' \
        "$page.html" > sized.html
    run_chrome --dump-dom "file://$W/sized.html" > sized.dom 2> chrome.err ||
        fail "chromium could not load $page.html: $(tail -5 chrome.err)"
    grep -q "Model card" sized.dom || fail "chromium's DOM of $page.html lacks the model card"
    if grep -q "CONSOLE" chrome.err; then fail "console messages on $page.html: $(grep CONSOLE chrome.err)"; fi
    sizes=$(sed -n 's|.*<pre id="kiln-sizes">\([^<]*\)</pre>.*|\1|p' sized.dom)
    n_svg=$(grep -o "<svg " "$page.html" | wc -l)
    [ "$(echo "$sizes" | wc -w)" = "$n_svg" ] || fail "$page.html: $n_svg figures, sizes '$sizes'"
    for s in $sizes; do
        case $s in 0x* | *x0) fail "$page.html: a figure rendered as $s" ;; esac
    done
done
# the detector itself: a page with a script error is caught
echo '<!DOCTYPE html><html><body><script>undefinedFn();</script></body></html>' > bad.html
run_chrome --dump-dom "file://$W/bad.html" > /dev/null 2> chrome.err
grep -q "CONSOLE" chrome.err || fail "chromium's console messages are not seen on stderr"

# 5. a screenshot
run_chrome --window-size=1200,1800 --screenshot="$W/report.png" "file://$W/run.html" > /dev/null 2> chrome.err ||
    fail "no screenshot: $(tail -5 chrome.err)"
[ "$(head -c 8 report.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "the screenshot is not a PNG"
[ "$(stat -c %s report.png)" -gt 20000 ] || fail "the screenshot is nearly empty"
echo "report: ok"
