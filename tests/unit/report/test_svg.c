/* report: the SVG figures and the text buffer. */
#include "test_util.h"

#include "report/svg-impl.h"
#include "report/text-impl.h"

#include <math.h>

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
    return n;
}

static void text_escapes_and_formats(void **state)
{
    (void)state;
    kn__text t = {0};
    kn__text_esc(&t, "a<b & \"c\" 'd'>");
    assert_string_equal(t.p, "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
    kn__text_free(&t);
    kn__text_fixed(&t, -0.0001, 2);
    kn__text_put(&t, " ");
    kn__text_fixed(&t, 1.005, 1);
    kn__text_put(&t, " ");
    kn__text_fixed(&t, NAN, 3);
    assert_string_equal(t.p, "0.00 1.0 n/a");
    kn__text_free(&t);
    char buf[48];
    assert_string_equal(kn__fmt_num(0.912345678, buf, sizeof buf), "0.9123");
    assert_string_equal(kn__fmt_num(1234.5678, buf, sizeof buf), "1235");
    assert_string_equal(kn__fmt_num(2.5, buf, sizeof buf), "2.5");
    assert_string_equal(kn__fmt_num(-0.0, buf, sizeof buf), "0");
    assert_string_equal(kn__fmt_num(3e9, buf, sizeof buf), "3000000000");
    assert_string_equal(kn__fmt_num(3.5e-6, buf, sizeof buf), "3.500e-06");
    assert_string_equal(kn__fmt_num(2.5e8, buf, sizeof buf), "250000000");
    assert_string_equal(kn__fmt_num(2.55e8 + 0.5, buf, sizeof buf), "2.550e+08");
    assert_string_equal(kn__fmt_num(INFINITY, buf, sizeof buf), "n/a");
    /* a long printf goes past the small stack buffer */
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    kn__text_printf(&t, "[%s]", big);
    assert_int_equal(t.len, 1001);
    kn__text_free(&t);
}

static void tick_steps_are_nice(void **state)
{
    (void)state;
    assert_true(fabs(kn__svg_tick_step(1, 5) - 0.2) < 1e-12);
    assert_true(fabs(kn__svg_tick_step(7, 5) - 2) < 1e-12);
    assert_true(fabs(kn__svg_tick_step(0.03, 5) - 0.01) < 1e-12);
    assert_true(fabs(kn__svg_tick_step(4500, 5) - 1000) < 1e-9);
    assert_true(kn__svg_tick_step(0, 5) == 1);
}

/* Every figure: one svg element with width, height and a viewBox. */
static void check_svg(const char *s)
{
    assert_int_equal(count(s, "<svg "), 1);
    assert_int_equal(count(s, "</svg>"), 1);
    assert_non_null(strstr(s, " width=\""));
    assert_non_null(strstr(s, " height=\""));
    assert_non_null(strstr(s, " viewBox=\"0 0 "));
    assert_null(strstr(s, "nan"));
    assert_null(strstr(s, "inf"));
    assert_null(strstr(s, "<script"));
}

static void render_all(kn__text *t)
{
    double x[5] = {0, 0.1, 0.4, 0.8, 1}, y[5] = {0, 0.5, 0.7, 0.9, 1};
    kn__svg_series s[2] = {{"class <a>", x, y, 5, 0, 0}, {"step", y, x, 5, 1, 0}};
    kn__svg_plot p = {"ROC & co",
                      {"false positive rate", 0, 1, 0},
                      {"true positive rate", 0, 1, 0},
                      1,
                      0,
                      0,
                      NULL,
                      1};
    kn__svg_lines(t, &p, s, 2);
    const char *labels[3] = {"a", "a very long feature name that does not fit in the margin", "c"};
    double v[3] = {0.5, 0.3, 0.2};
    kn__svg_plot pb = {"bars", {"importance", 0, 0, 0}, {NULL, 0, 0, 0}, 0, 1, 0.33, "mean", 0};
    kn__svg_bars(t, &pb, labels, v, 3, 1);
    kn__svg_bars(t, &pb, labels, v, 3, 0);
    double counts[4] = {50, 10, 5, 35};
    const char *cls[2] = {"no", "yes"};
    kn__svg_heatmap(t, "confusion", cls, 2, counts);
    double r[7] = {-1, -0.5, 0, 0, 0.5, 2, NAN};
    kn__svg_plot ph = {"hist", {"residual", 0, 0, 0}, {"rows", 0, 0, 0}, 0, 1, 0, NULL, 0};
    kn__svg_hist(t, &ph, r, 7, 10);
    double q[7] = {0, 1, 2, 3, 4, 5, 10};
    kn__svg_strip(t, "distribution of x", q);
}

static void figures_are_well_formed_and_stable(void **state)
{
    (void)state;
    kn__text a = {0}, b = {0};
    render_all(&a);
    render_all(&b);
    assert_false(a.failed);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.p, b.p, a.len); /* same input, same bytes */
    /* split into figures and check each */
    size_t figures = 0;
    for (char *p = a.p; (p = strstr(p, "<svg ")); figures++) {
        char *end = strstr(p, "</svg>") + 6;
        char keep = *end;
        *end = 0;
        check_svg(p);
        *end = keep;
        p = end;
    }
    assert_int_equal(figures, 6);
    assert_non_null(strstr(a.p, "class &lt;a&gt;")); /* legend text escaped */
    assert_non_null(strstr(a.p, "aria-label=\"ROC &amp; co\""));
    assert_non_null(strstr(a.p, ">83.3%</text>")); /* 50 of the row's 60 */
    assert_non_null(strstr(a.p, "\xe2\x80\xa6"));  /* long label cut with an ellipsis */
    kn__text_free(&a);
    kn__text_free(&b);
}

/* Whether a tick reads `label` (">label</text>" after a tick's opening). */
static int has_tick(const char *svg, const char *label)
{
    char want[64];
    snprintf(want, sizeof want, ">%s</text>", label);
    for (const char *p = svg; (p = strstr(p, "<text class=\"tick\"")); p++) {
        const char *end = strstr(p, "</text>");
        const char *gt = strchr(p, '>');
        if (end && gt && !strncmp(gt, want, strlen(want))) return 1;
    }
    return 0;
}

/* Check numbers 1..3 and an all-zero share (monitor report): the x axis
 * ticks whole numbers only, the y axis starts at 0. Without the flags the
 * same data gave 1.0, 1.5, ... and -0.6 .. 0.6. */
static void integer_and_nonnegative_axes(void **state)
{
    (void)state;
    double x[3] = {1, 2, 3}, y[3] = {0, 0, 0}, x2[2] = {1, 2};
    kn__svg_series s = {"error share", x, y, 3, 0, 0};
    kn__svg_plot plain = {"plain", {"check", 0, 0, 0}, {"share", 0, 0, 0}, 0, 0, 0, NULL, 0};
    kn__svg_plot typed = {
        "typed", {"check", 0, 0, KN__SVG_INTEGER}, {"share", 0, 0, KN__SVG_NONNEG}, 0, 0, 0, NULL,
        0};
    kn__text a = {0}, b = {0};
    kn__svg_lines(&a, &plain, &s, 1);
    kn__svg_lines(&b, &typed, &s, 1);
    assert_true(has_tick(a.p, "1.5") && has_tick(a.p, "-0.6")); /* what the flags change */
    for (const char *p = b.p; (p = strstr(p, "<text class=\"tick\"")); p++) {
        const char *gt = strchr(p, '>');
        assert_true(gt && gt[1] != '-'); /* no tick below 0 */
    }
    assert_true(has_tick(b.p, "1") && has_tick(b.p, "2") && has_tick(b.p, "3"));
    assert_false(has_tick(b.p, "1.5") || has_tick(b.p, "2.5"));
    assert_true(has_tick(b.p, "0.0") || has_tick(b.p, "0"));
    check_svg(b.p);
    kn__text_free(&a);
    kn__text_free(&b);
    /* two checks: 1 and 2, nothing between; a given range too (CV folds) */
    s = (kn__svg_series){"psi", x2, y, 2, 0, 0};
    kn__svg_plot folds = {
        "folds", {"fold", 0.5, 2.5, KN__SVG_INTEGER}, {"psi", 0, 0, KN__SVG_NONNEG}, 0, 0, 0, NULL,
        0};
    kn__svg_lines(&b, &typed, &s, 1);
    assert_true(has_tick(b.p, "1") && has_tick(b.p, "2") && !has_tick(b.p, "1.2"));
    kn__text_free(&b);
    kn__svg_lines(&b, &folds, &s, 1);
    assert_true(has_tick(b.p, "1") && has_tick(b.p, "2") && !has_tick(b.p, "1.5"));
    kn__text_free(&b);
}

static void scatter_subsamples_by_stride(void **state)
{
    (void)state;
    size_t n = 10000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        x[i] = (double)i;
        y[i] = sin((double)i);
    }
    kn__text t = {0};
    kn__svg_plot p = {"residuals", {"predicted", 0, 0, 0}, {"residual", 0, 0, 0}, 0, 1, 0, NULL, 0};
    size_t drawn = kn__svg_scatter(&t, &p, x, y, n, 3000);
    assert_true(drawn <= 3000 && drawn >= 2000);
    assert_int_equal(count(t.p, "<circle "), drawn);
    check_svg(t.p);
    kn__text_free(&t);
    drawn = kn__svg_scatter(&t, &p, x, y, 100, 3000);
    assert_int_equal(drawn, 100);
    kn__text_free(&t);
    free(x);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_escapes_and_formats),
        cmocka_unit_test(tick_steps_are_nice),
        cmocka_unit_test(figures_are_well_formed_and_stable),
        cmocka_unit_test(integer_and_nonnegative_axes),
        cmocka_unit_test(scatter_subsamples_by_stride),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
