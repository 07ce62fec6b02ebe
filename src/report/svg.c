/* Inline SVG figures (svg-impl.h). Coordinates are written with two
 * decimals, labels with the decimals of the tick step, so output is
 * byte-stable. */
#include "report/svg-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define W 520.0
#define H 340.0
#define ML 64.0
#define MR 16.0
#define MT 16.0
#define MB 50.0

static const char *const palette[] = {"#1f5fa8", "#d9622b", "#2e8b57", "#8e44ad", "#b8860b",
                                      "#c0392b", "#17a2b8", "#6c757d", "#e83e8c", "#343a40"};

const char *kn__svg_color(size_t i)
{
    return palette[i % (sizeof palette / sizeof *palette)];
}

double kn__svg_tick_step(double range, int target)
{
    if (!(range > 0) || !isfinite(range)) return 1;
    double raw = range / (target > 0 ? target : 5);
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nice * mag;
}

/* Decimals that print ticks of this step exactly (0 for steps >= 1). */
static int step_decimals(double step)
{
    int d = (int)ceil(-log10(step) - 1e-9);
    return d < 0 ? 0 : d > 10 ? 10 : d;
}

/* A resolved axis: range and tick step. */
typedef struct axis {
    double lo, hi, step;
    int dec;
} axis;

/* A nice step that is a whole number on an integer axis (1, 2, 5, 10, ...). */
static double axis_step(const kn__svg_axis *a, double range)
{
    double step = kn__svg_tick_step(range, 5);
    return a->flags & KN__SVG_INTEGER && step < 1 ? 1 : step;
}

static axis resolve(const kn__svg_axis *a, double dlo, double dhi)
{
    axis r;
    if (a->lo < a->hi) {
        r.lo = a->lo;
        r.hi = a->hi;
        r.step = axis_step(a, r.hi - r.lo);
    } else {
        if (!isfinite(dlo) || !isfinite(dhi) || dlo > dhi) dlo = 0, dhi = 1;
        if (dlo == dhi) {
            double pad = fabs(dlo) > 0 ? fabs(dlo) * 0.1 : 0.5;
            dlo -= pad;
            dhi += pad;
        }
        /* a share, a count: the data are never below 0, nor is the axis */
        if (a->flags & KN__SVG_NONNEG && dlo < 0) dlo = 0;
        r.step = axis_step(a, dhi - dlo);
        r.lo = floor(dlo / r.step) * r.step;
        r.hi = ceil(dhi / r.step) * r.step;
        if (r.hi <= r.lo) r.hi = r.lo + r.step;
    }
    r.dec = step_decimals(r.step);
    return r;
}

static double px(const axis *a, double v, double from, double to)
{
    return from + (v - a->lo) / (a->hi - a->lo) * (to - from);
}

static void open_svg(kn__text *t, double w, double h, const char *label)
{
    kn__text_printf(t,
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                    "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
                    w, h, w, h);
    kn__text_esc(t, label ? label : "figure");
    kn__text_put(t, "\">");
}

static void tick_label(kn__text *t, const axis *a, double v)
{
    if (a->step >= 1e6 || (a->hi > 0 && a->hi >= 1e7) || (a->lo < 0 && a->lo <= -1e7))
        kn__text_printf(t, "%.2e", v);
    else
        kn__text_fixed(t, v, a->dec);
}

/* Axes, grid, ticks and labels of the plot area [x0, x1] x [y0, y1]
 * (y0 top). */
static void draw_axes(kn__text *t, const axis *ax, const axis *ay, const char *xl, const char *yl,
                      double x0, double x1, double y0, double y1, double xl_at)
{
    kn__text_printf(t,
                    "<rect class=\"area\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>",
                    x0, y0, x1 - x0, y1 - y0);
    if (ax) {
        double first = ceil(ax->lo / ax->step - 1e-9);
        for (int i = 0; i < 60; i++) {
            double v = (first + i) * ax->step;
            if (v > ax->hi + ax->step * 1e-9) break;
            double x = px(ax, v, x0, x1);
            kn__text_printf(
                t, "<line class=\"grid\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>", x, y0,
                x, y1);
            kn__text_printf(t, "<text class=\"tick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">",
                            x, y1 + 14);
            tick_label(t, ax, v);
            kn__text_put(t, "</text>");
        }
    }
    if (ay) {
        double first = ceil(ay->lo / ay->step - 1e-9);
        for (int i = 0; i < 60; i++) {
            double v = (first + i) * ay->step;
            if (v > ay->hi + ay->step * 1e-9) break;
            double y = px(ay, v, y1, y0);
            kn__text_printf(
                t, "<line class=\"grid\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>", x0, y,
                x1, y);
            kn__text_printf(t, "<text class=\"tick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">",
                            x0 - 5, y + 4);
            tick_label(t, ay, v);
            kn__text_put(t, "</text>");
        }
    }
    kn__text_printf(t, "<line class=\"axis\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>", x0,
                    y1, x1, y1);
    kn__text_printf(t, "<line class=\"axis\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>", x0,
                    y0, x0, y1);
    if (xl) {
        kn__text_printf(t, "<text class=\"label\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">",
                        xl_at > 0 ? xl_at : (x0 + x1) / 2, y1 + 34);
        kn__text_esc(t, xl);
        kn__text_put(t, "</text>");
    }
    if (yl) {
        double cy = (y0 + y1) / 2;
        kn__text_printf(t,
                        "<text class=\"label\" x=\"14\" y=\"%.2f\" text-anchor=\"middle\" "
                        "transform=\"rotate(-90 14 %.2f)\">",
                        cy, cy);
        kn__text_esc(t, yl);
        kn__text_put(t, "</text>");
    }
}

static void legend(kn__text *t, const char *const *names, const char *const *colors,
                   const int *dashed, size_t n, double x1, double y0, double y1, int bottom)
{
    size_t shown = 0;
    size_t longest = 0;
    for (size_t i = 0; i < n; i++)
        if (names[i]) {
            shown++;
            size_t l = strlen(names[i]);
            if (l > longest) longest = l;
        }
    if (!shown) return;
    if (longest > 40) longest = 40;
    double w = 34 + (double)longest * 6.8, h = 8 + 15.0 * (double)shown;
    double lx = x1 - w - 6, ly = bottom ? y1 - h - 6 : y0 + 6;
    kn__text_printf(t,
                    "<rect class=\"legend\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>",
                    lx, ly, w, h);
    size_t row = 0;
    for (size_t i = 0; i < n; i++) {
        if (!names[i]) continue;
        double y = ly + 12 + 15.0 * (double)row++;
        kn__text_printf(t,
                        "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                        "stroke-width=\"2\"%s/>",
                        lx + 5, y - 4, lx + 22, y - 4, colors[i],
                        dashed[i] ? " stroke-dasharray=\"4 3\"" : "");
        kn__text_printf(t, "<text class=\"tick\" x=\"%.2f\" y=\"%.2f\">", lx + 26, y);
        size_t l = strlen(names[i]);
        if (l > 40) {
            kn__text_escn(t, names[i], 39);
            kn__text_put(t, "\xe2\x80\xa6");
        } else {
            kn__text_esc(t, names[i]);
        }
        kn__text_put(t, "</text>");
    }
}

static void data_range(const double *v, size_t n, double *lo, double *hi)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) continue;
        if (v[i] < *lo) *lo = v[i];
        if (v[i] > *hi) *hi = v[i];
    }
}

void kn__svg_lines(kn__text *t, const kn__svg_plot *p, const kn__svg_series *s, size_t ns)
{
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < ns; i++) {
        data_range(s[i].x, s[i].n, &xlo, &xhi);
        data_range(s[i].y, s[i].n, &ylo, &yhi);
    }
    if (p->has_hline) data_range(&p->hline, 1, &ylo, &yhi);
    axis ax = resolve(&p->x, xlo, xhi), ay = resolve(&p->y, ylo, yhi);
    double x0 = ML, x1 = W - MR, y0 = MT, y1 = H - MB;
    open_svg(t, W, H, p->label);
    draw_axes(t, &ax, &ay, p->x.label, p->y.label, x0, x1, y0, y1, 0);
    if (p->diagonal) {
        double lo = fmax(ax.lo, ay.lo), hi = fmin(ax.hi, ay.hi);
        if (lo < hi)
            kn__text_printf(
                t, "<line class=\"ref\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>",
                px(&ax, lo, x0, x1), px(&ay, lo, y1, y0), px(&ax, hi, x0, x1), px(&ay, hi, y1, y0));
    }
    if (p->has_hline && isfinite(p->hline))
        kn__text_printf(t, "<line class=\"ref\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>",
                        x0, px(&ay, p->hline, y1, y0), x1, px(&ay, p->hline, y1, y0));
    for (size_t i = 0; i < ns; i++) {
        if (!s[i].markers) {
            kn__text_printf(t,
                            "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" "
                            "stroke-linejoin=\"round\" points=\"",
                            kn__svg_color(i));
            int first = 1;
            double prev_y = 0;
            for (size_t j = 0; j < s[i].n; j++) {
                if (!isfinite(s[i].x[j]) || !isfinite(s[i].y[j])) continue;
                double x = px(&ax, s[i].x[j], x0, x1), y = px(&ay, s[i].y[j], y1, y0);
                if (s[i].step && !first) kn__text_printf(t, " %.2f,%.2f", x, prev_y);
                kn__text_printf(t, first ? "%.2f,%.2f" : " %.2f,%.2f", x, y);
                first = 0;
                prev_y = y;
            }
            kn__text_put(t, "\"/>");
        }
        if (s[i].markers || s[i].n <= 12) /* few points (e.g. calibration bins): mark them */
            for (size_t j = 0; j < s[i].n; j++)
                if (isfinite(s[i].x[j]) && isfinite(s[i].y[j]))
                    kn__text_printf(t, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%s\" fill=\"%s\"/>",
                                    px(&ax, s[i].x[j], x0, x1), px(&ay, s[i].y[j], y1, y0),
                                    s[i].markers ? "4" : "2.5", kn__svg_color(i));
    }
    const char *names[12], *colors[12];
    int dashed[12];
    size_t nl = 0;
    for (size_t i = 0; i < ns && nl < 11; i++) {
        names[nl] = s[i].name;
        colors[nl] = kn__svg_color(i);
        dashed[nl++] = 0;
    }
    if (p->has_hline && p->hline_name) {
        names[nl] = p->hline_name;
        colors[nl] = "#888888";
        dashed[nl++] = 1;
    }
    legend(t, names, colors, dashed, nl, x1, y0, y1, p->legend_bottom);
    kn__text_put(t, "</svg>");
}

size_t kn__svg_scatter(kn__text *t, const kn__svg_plot *p, const double *x, const double *y,
                       size_t n, size_t max_points)
{
    size_t stride = 1;
    if (max_points && n > max_points) stride = (n + max_points - 1) / max_points;
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    data_range(x, n, &xlo, &xhi);
    data_range(y, n, &ylo, &yhi);
    if (p->has_hline) data_range(&p->hline, 1, &ylo, &yhi);
    axis ax = resolve(&p->x, xlo, xhi), ay = resolve(&p->y, ylo, yhi);
    double x0 = ML, x1 = W - MR, y0 = MT, y1 = H - MB;
    open_svg(t, W, H, p->label);
    draw_axes(t, &ax, &ay, p->x.label, p->y.label, x0, x1, y0, y1, 0);
    kn__text_printf(t, "<g fill=\"%s\" fill-opacity=\"0.45\">", kn__svg_color(0));
    size_t drawn = 0;
    for (size_t i = 0; i < n; i += stride) {
        if (!isfinite(x[i]) || !isfinite(y[i])) continue;
        kn__text_printf(t, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2\"/>", px(&ax, x[i], x0, x1),
                        px(&ay, y[i], y1, y0));
        drawn++;
    }
    kn__text_put(t, "</g>");
    if (p->has_hline && isfinite(p->hline))
        kn__text_printf(t, "<line class=\"ref\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>",
                        x0, px(&ay, p->hline, y1, y0), x1, px(&ay, p->hline, y1, y0));
    kn__text_put(t, "</svg>");
    return drawn;
}

void kn__svg_bars(kn__text *t, const kn__svg_plot *p, const char *const *labels, const double *v,
                  size_t n, int horizontal)
{
    double lo = 0, hi = 0;
    data_range(v, n, &lo, &hi);
    if (p->has_hline) data_range(&p->hline, 1, &lo, &hi);
    if (horizontal) {
        const double label_w = 200, row = 18;
        double w = W, h = MT + row * (double)(n ? n : 1) + 40;
        double x0 = label_w, x1 = w - MR, y0 = MT, y1 = h - 40;
        axis ax = resolve(&p->x, lo, hi);
        open_svg(t, w, h, p->label);
        draw_axes(t, &ax, NULL, p->x.label, NULL, x0, x1, y0, y1, w / 2);
        for (size_t i = 0; i < n; i++) {
            double y = y0 + row * (double)i;
            double a = px(&ax, 0 > ax.lo ? 0 : ax.lo, x0, x1), b = px(&ax, v[i], x0, x1);
            if (!isfinite(v[i])) b = a;
            kn__text_printf(t,
                            "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                            "fill=\"%s\"/>",
                            fmin(a, b), y + 3, fabs(b - a), row - 6, kn__svg_color(0));
            kn__text_printf(t, "<text class=\"tick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">",
                            x0 - 6, y + row / 2 + 4);
            const char *l = labels[i] ? labels[i] : "";
            if (strlen(l) > 30) {
                kn__text_escn(t, l, 29);
                kn__text_put(t, "\xe2\x80\xa6");
            } else {
                kn__text_esc(t, l);
            }
            kn__text_put(t, "</text>");
        }
        kn__text_put(t, "</svg>");
        return;
    }
    axis ay = resolve(&p->y, lo, hi);
    double x0 = ML, x1 = W - MR, y0 = MT, y1 = H - MB;
    open_svg(t, W, H, p->label);
    draw_axes(t, NULL, &ay, p->x.label, p->y.label, x0, x1, y0, y1, 0);
    double slot = (x1 - x0) / (double)(n ? n : 1);
    double base = px(&ay, 0 > ay.lo ? (0 < ay.hi ? 0 : ay.hi) : ay.lo, y1, y0);
    for (size_t i = 0; i < n; i++) {
        double x = x0 + slot * (double)i;
        double top = isfinite(v[i]) ? px(&ay, v[i], y1, y0) : base;
        kn__text_printf(
            t, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
            x + slot * 0.15, fmin(top, base), slot * 0.7, fabs(base - top), kn__svg_color(0));
        kn__text_printf(t, "<text class=\"tick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">",
                        x + slot / 2, y1 + 14);
        kn__text_esc(t, labels[i] ? labels[i] : "");
        kn__text_put(t, "</text>");
    }
    if (p->has_hline && isfinite(p->hline)) {
        double y = px(&ay, p->hline, y1, y0);
        kn__text_printf(t, "<line class=\"ref\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>",
                        x0, y, x1, y);
        const char *names[1] = {p->hline_name};
        const char *colors[1] = {"#888888"};
        int dashed[1] = {1};
        legend(t, names, colors, dashed, 1, x1, y0, y1, 1);
    }
    kn__text_put(t, "</svg>");
}

void kn__svg_hist(kn__text *t, const kn__svg_plot *p, const double *v, size_t n, size_t bins)
{
    double lo = INFINITY, hi = -INFINITY;
    data_range(v, n, &lo, &hi);
    if (!bins) bins = 1;
    size_t *count = kn_calloc(bins, sizeof *count);
    if (!count) {
        t->failed = 1;
        return;
    }
    if (lo > hi) lo = hi = 0;
    double width = hi > lo ? (hi - lo) / (double)bins : 1;
    size_t most = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) continue;
        size_t b = hi > lo ? (size_t)((v[i] - lo) / width) : 0;
        if (b >= bins) b = bins - 1;
        if (++count[b] > most) most = count[b];
    }
    kn__svg_axis yaxis = p->y;
    axis ax = resolve(&p->x, lo, hi > lo ? hi : lo + 1), ay = resolve(&yaxis, 0, (double)most);
    double x0 = ML, x1 = W - MR, y0 = MT, y1 = H - MB;
    open_svg(t, W, H, p->label);
    draw_axes(t, &ax, &ay, p->x.label, p->y.label, x0, x1, y0, y1, 0);
    kn__text_printf(t, "<g fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"0.5\">", kn__svg_color(0));
    for (size_t b = 0; b < bins; b++) {
        if (!count[b]) continue;
        double a = px(&ax, lo + width * (double)b, x0, x1);
        double e = px(&ax, lo + width * (double)(b + 1), x0, x1);
        double top = px(&ay, (double)count[b], y1, y0);
        kn__text_printf(t, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>", a, top,
                        e - a, y1 - top);
    }
    kn__text_put(t, "</g>");
    if (p->has_hline && isfinite(p->hline)) { /* a vertical reference, e.g. zero */
        double x = px(&ax, p->hline, x0, x1);
        if (x >= x0 && x <= x1)
            kn__text_printf(t,
                            "<line class=\"ref\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>",
                            x, y0, x, y1);
    }
    kn__text_put(t, "</svg>");
    kn_free(count);
}

void kn__svg_heatmap(kn__text *t, const char *label, const char *const *classes, size_t k,
                     const double *counts)
{
    double cell = k ? 360.0 / (double)k : 60;
    if (cell > 72) cell = 72;
    if (cell < 26) cell = 26;
    const double left = 130, top = 44;
    double w = left + cell * (double)k + 16, h = top + cell * (double)k + 16;
    open_svg(t, w, h, label);
    kn__text_printf(t, "<text class=\"label\" x=\"%.2f\" y=\"14\" text-anchor=\"middle\">",
                    left + cell * (double)k / 2);
    kn__text_put(t, "predicted</text>");
    kn__text_printf(t, "<text class=\"label\" x=\"4\" y=\"%.2f\">true</text>", top - 8);
    int small = cell < 44;
    for (size_t j = 0; j < k; j++) {
        kn__text_printf(t, "<text class=\"tick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">",
                        left + cell * ((double)j + 0.5), top - 8);
        const char *c = classes && classes[j] ? classes[j] : "";
        kn__text_escn(t, c, strlen(c) > (small ? 3 : 8) ? (small ? 3 : 8) : strlen(c));
        kn__text_put(t, "</text>");
    }
    for (size_t i = 0; i < k; i++) {
        double row = 0;
        for (size_t j = 0; j < k; j++) row += counts[i * k + j];
        double y = top + cell * (double)i;
        kn__text_printf(t, "<text class=\"tick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">",
                        left - 6, y + cell / 2 + 4);
        const char *c = classes && classes[i] ? classes[i] : "";
        kn__text_escn(t, c, strlen(c) > 18 ? 18 : strlen(c));
        kn__text_put(t, "</text>");
        for (size_t j = 0; j < k; j++) {
            double v = counts[i * k + j], share = row > 0 ? v / row : 0;
            double x = left + cell * (double)j;
            kn__text_printf(t,
                            "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                            "fill=\"#1f5fa8\" fill-opacity=\"%.3f\" stroke=\"#cccccc\"/>",
                            x, y, cell, cell, 0.05 + 0.9 * share);
            const char *ink = share > 0.5 ? "#ffffff" : "#222222";
            if (small) {
                kn__text_printf(t,
                                "<text class=\"cell\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" "
                                "fill=\"%s\">%.0f</text>",
                                x + cell / 2, y + cell / 2 + 4, ink, v);
            } else {
                kn__text_printf(t,
                                "<text class=\"cell\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" "
                                "fill=\"%s\">%.0f</text>",
                                x + cell / 2, y + cell / 2 - 2, ink, v);
                kn__text_printf(t,
                                "<text class=\"share\" x=\"%.2f\" y=\"%.2f\" "
                                "text-anchor=\"middle\" fill=\"%s\">%.1f%%</text>",
                                x + cell / 2, y + cell / 2 + 12, ink, 100 * share);
            }
        }
    }
    kn__text_put(t, "</svg>");
}

void kn__svg_strip(kn__text *t, const char *label, const double q[7])
{
    const double w = 120, h = 18, pad = 4;
    open_svg(t, w, h, label);
    int ok = 1;
    for (int i = 0; i < 7; i++)
        if (!isfinite(q[i])) ok = 0;
    if (ok && q[6] > q[0]) {
        double span = q[6] - q[0];
#define SX(v) (pad + ((v)-q[0]) / span * (w - 2 * pad))
        kn__text_printf(t,
                        "<line class=\"axis\" x1=\"%.2f\" y1=\"9\" x2=\"%.2f\" y2=\"9\"/>"
                        "<rect x=\"%.2f\" y=\"4\" width=\"%.2f\" height=\"10\" fill=\"%s\" "
                        "fill-opacity=\"0.35\" stroke=\"%s\"/>"
                        "<line x1=\"%.2f\" y1=\"3\" x2=\"%.2f\" y2=\"15\" stroke=\"%s\" "
                        "stroke-width=\"2\"/>",
                        SX(q[1]), SX(q[5]), SX(q[2]), SX(q[4]) - SX(q[2]), kn__svg_color(0),
                        kn__svg_color(0), SX(q[3]), SX(q[3]), kn__svg_color(0));
#undef SX
    } else if (ok) { /* one value */
        kn__text_printf(t,
                        "<line x1=\"%.2f\" y1=\"3\" x2=\"%.2f\" y2=\"15\" stroke=\"%s\" "
                        "stroke-width=\"2\"/>",
                        w / 2, w / 2, kn__svg_color(0));
    }
    kn__text_put(t, "</svg>");
}
