/* Figures as inline SVG, drawn by Kiln's own code for the HTML report:
 * line and step plots, scatter plots, bar charts, histograms and a heatmap
 * table. Every figure is one <svg> element with width, height and viewBox;
 * numbers are written with fixed decimals, so the same input gives the same
 * bytes. Text is escaped. No scripts.
 *
 * Axes: a range with lo < hi is used as given; lo == hi (e.g. both 0) asks
 * for a range from the data, widened to "nice" ticks (1, 2 or 5 x 10^k;
 * whole numbers on an integer axis; from 0 on one that cannot go below). */
#ifndef KILN_REPORT_SVG_IMPL_H
#define KILN_REPORT_SVG_IMPL_H

#include "report/text-impl.h"

#include <stddef.h>

typedef struct kn__svg_axis {
    const char *label;
    double lo, hi;
    /* with a range from the data: KN__SVG_INTEGER ticks at whole numbers
     * only (a check or window number); KN__SVG_NONNEG never below 0 (a
     * share, a count, a PSI: a constant 0 is drawn from 0, not around it) */
    unsigned flags;
} kn__svg_axis;
enum { KN__SVG_INTEGER = 1, KN__SVG_NONNEG = 2 };

typedef struct kn__svg_series {
    const char *name; /* legend entry, or NULL */
    const double *x, *y;
    size_t n;
    int step;    /* 1: steps-post (horizontal, then vertical) */
    int markers; /* 1: points only, no line */
} kn__svg_series;

typedef struct kn__svg_plot {
    const char *label; /* aria-label of the figure */
    kn__svg_axis x, y;
    int diagonal;  /* dashed y = x reference line */
    int has_hline; /* dashed horizontal reference line at hline */
    double hline;
    const char *hline_name; /* its legend entry, or NULL */
    int legend_bottom;      /* legend in the lower right corner (else upper right) */
} kn__svg_plot;

/* The series' colour (index modulo the palette). */
const char *kn__svg_color(size_t i);

/* Nice tick step for a range and about `target` ticks. */
double kn__svg_tick_step(double range, int target);

void kn__svg_lines(kn__text *t, const kn__svg_plot *p, const kn__svg_series *s, size_t ns);
/* At most max_points points are drawn: past that, every (n / max_points)-th
 * point by a fixed stride (deterministic); returns how many were drawn. */
size_t kn__svg_scatter(kn__text *t, const kn__svg_plot *p, const double *x, const double *y,
                       size_t n, size_t max_points);
/* Bars of v[0..n) named labels[i]. horizontal: one row per bar, labels on
 * the left (feature importance); else columns (CV folds). p->x / p->y give
 * the value axis label; p->has_hline draws a reference value (e.g. the
 * mean) across the bars. */
void kn__svg_bars(kn__text *t, const kn__svg_plot *p, const char *const *labels, const double *v,
                  size_t n, int horizontal);
/* Histogram of v over `bins` equal-width bins between its finite minimum
 * and maximum (non-finite values are left out). */
void kn__svg_hist(kn__text *t, const kn__svg_plot *p, const double *v, size_t n, size_t bins);
/* A small distribution strip for a table cell: q[0..7) = min, p1, p25,
 * p50, p75, p99, max; whiskers from p1 to p99, a box from p25 to p75, the
 * median as a bar, scaled to [min, max]. Non-finite quantiles draw nothing
 * but the frame. */
void kn__svg_strip(kn__text *t, const char *label, const double q[7]);
/* k x k table of counts (row: true class, column: predicted), each cell
 * with its count and its share of the row, shaded by the share. */
void kn__svg_heatmap(kn__text *t, const char *label, const char *const *classes, size_t k,
                     const double *counts);

#endif
