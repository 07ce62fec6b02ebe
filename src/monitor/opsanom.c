/* Operational anomalies (kiln/opsanom.h): an EWMA level with a seasonal
 * term per slot, a smoothed residual variance, and the jump, drop and
 * flatline rules over one series of per-interval values. */
#include "kiln/opsanom.h"
#include "kiln/mem.h"

#include <math.h>
#include <string.h>

enum { LEARN_SD = 2 };

struct kn_opsanom {
    kn_opsanom_params p;
    double level, var, var_weight; /* var_weight: 1 - (1 - var_alpha)^updates */
    double last;
    uint64_t n, run;
    int moved;
    kn_opsanom_event state;
    uint64_t events[KN_OPSANOM_N_EVENTS];
    double season[]; /* n_slots */
};

void kn_opsanom_default_params(kn_opsanom_params *p)
{
    memset(p, 0, sizeof *p);
    p->kind = KN_OPSANOM_LEVEL;
    p->alpha = 0.1;
    p->gamma = 0.1;
    p->var_alpha = 0.05;
    p->threshold = 5;
    p->min_sd = 0;
    p->min_rel = 0;
    p->n_slots = 24;
    p->warmup = 12;
    p->flat_intervals = 3;
}

kn_status kn_opsanom_check_params(const kn_opsanom_params *p)
{
    if (p->kind != KN_OPSANOM_LEVEL && p->kind != KN_OPSANOM_COUNT && p->kind != KN_OPSANOM_SHARE)
        return kn_fail(KN_ERR_INVALID, "opsanom: kind %d is not level (0), count (1) or share (2)",
                       (int)p->kind);
    if (!(p->alpha > 0 && p->alpha <= 1))
        return kn_fail(KN_ERR_INVALID, "opsanom: alpha %g is not in (0, 1]", p->alpha);
    if (!(p->gamma >= 0 && p->gamma <= 1))
        return kn_fail(KN_ERR_INVALID, "opsanom: gamma %g is not in [0, 1]", p->gamma);
    if (!(p->var_alpha > 0 && p->var_alpha <= 1))
        return kn_fail(KN_ERR_INVALID, "opsanom: var_alpha %g is not in (0, 1]", p->var_alpha);
    if (!(p->threshold > 0 && isfinite(p->threshold)))
        return kn_fail(KN_ERR_INVALID, "opsanom: threshold %g is not a positive number",
                       p->threshold);
    if (!(p->min_sd >= 0 && isfinite(p->min_sd)))
        return kn_fail(KN_ERR_INVALID, "opsanom: min_sd %g is not 0 or more", p->min_sd);
    if (!(p->min_rel >= 0 && isfinite(p->min_rel)))
        return kn_fail(KN_ERR_INVALID, "opsanom: min_rel %g is not 0 or more", p->min_rel);
    if (p->n_slots < 1 || p->n_slots > 100000)
        return kn_fail(KN_ERR_INVALID, "opsanom: n_slots %zu is not 1 to 100000 (24: hour of day)",
                       p->n_slots);
    return KN_OK;
}

kn_status kn_opsanom_new(const kn_opsanom_params *p, kn_opsanom **out)
{
    kn_status e = kn_opsanom_check_params(p);
    if (e != KN_OK) return e;
    kn_opsanom *d = kn_calloc(1, sizeof *d + p->n_slots * sizeof(double));
    if (!d) return kn_fail(KN_ERR_NOMEM, "opsanom: no memory for a detector");
    d->p = *p;
    *out = d;
    return KN_OK;
}

void kn_opsanom_free(kn_opsanom *d)
{
    kn_free(d);
}

size_t kn_opsanom_bytes(const kn_opsanom *d)
{
    return d ? sizeof *d + d->p.n_slots * sizeof(double) : 0;
}

const char *kn_opsanom_event_name(kn_opsanom_event e)
{
    switch (e) {
    case KN_OPSANOM_JUMP:
        return "jump";
    case KN_OPSANOM_DROP:
        return "drop";
    case KN_OPSANOM_FLATLINE:
        return "flatline";
    default:
        return "none";
    }
}

size_t kn_opsanom_hour_of_day(int64_t unix_s)
{
    int64_t h = (unix_s / 3600) % 24;
    return (size_t)(h < 0 ? h + 24 : h);
}

void kn_opsanom_events(const kn_opsanom *d, uint64_t *events)
{
    memcpy(events, d->events, sizeof d->events);
}

/* The variance the kind's sampling noise alone gives a value near expected. */
static double noise_var(const kn_opsanom_params *p, double expected, double weight)
{
    if (p->kind == KN_OPSANOM_COUNT) return expected > 1 ? expected : 1;
    if (p->kind == KN_OPSANOM_SHARE) {
        double w = weight >= 1 ? weight : 1, lo = 1 / (w + 1);
        double q = expected < lo ? lo : expected > 1 - lo ? 1 - lo : expected;
        return q * (1 - q) / w;
    }
    return 0;
}

void kn_opsanom_update(kn_opsanom *d, double value, double weight, size_t slot,
                       kn_opsanom_point *out)
{
    const kn_opsanom_params *p = &d->p;
    kn_opsanom_point pt = {value, NAN, NAN, NAN, KN_OPSANOM_NONE, 0};
    if (isnan(value)) {
        if (out) *out = pt;
        return;
    }
    slot %= p->n_slots;
    if (d->n == 0) {
        d->level = value;
        d->last = value;
        d->run = 1;
        d->n = 1;
        pt.expected = value;
        if (out) *out = pt;
        return;
    }
    double *season = &d->season[slot];
    double expected = d->level + *season;
    double var = d->var_weight > 0 ? d->var / d->var_weight : 0;
    double nv = noise_var(p, expected, weight);
    double rel = p->min_rel * expected;
    double sd = sqrt((var > nv ? var : nv) + p->min_sd * p->min_sd + rel * rel);
    double diff = value - expected;
    double z = sd > 0 ? diff / sd : diff == 0 ? 0 : copysign(INFINITY, diff);
    int scored = d->n >= p->warmup;
    pt.expected = expected;
    pt.sd = sd;
    if (scored) {
        pt.z = z;
        if (z > p->threshold)
            pt.event = KN_OPSANOM_JUMP;
        else if (z < -p->threshold)
            pt.event = KN_OPSANOM_DROP;
    }
    /* the same value again and again, far from what the baseline expects */
    if (value == d->last)
        d->run++;
    else
        d->moved = 1, d->run = 1;
    if (scored && p->flat_intervals && d->run >= p->flat_intervals && d->moved && fabs(z) > 2)
        pt.event = KN_OPSANOM_FLATLINE;
    d->last = value;
    if (scored) {
        d->events[KN_OPSANOM_NONE]++;
        if (pt.event != KN_OPSANOM_NONE && pt.event != d->state) {
            pt.onset = 1;
            d->events[pt.event]++;
        }
        d->state = pt.event;
    }
    /* no traffic is not the new normal: a flat-line is not learned */
    if (pt.event == KN_OPSANOM_FLATLINE) {
        if (out) *out = pt;
        return;
    }
    /* learn the value clipped to expected +- LEARN_SD sd (Huber): an outlier
     * moves the level by at most alpha LEARN_SD sd and grows the variance
     * by at most a factor 1 + var_alpha (LEARN_SD^2 - 1) */
    double x = value;
    if (scored && sd > 0) {
        double lo = expected - LEARN_SD * sd, hi = expected + LEARN_SD * sd;
        x = x < lo ? lo : x > hi ? hi : x;
    }
    double r = x - expected;
    d->var = (1 - p->var_alpha) * d->var + p->var_alpha * r * r;
    d->var_weight = (1 - p->var_alpha) * d->var_weight + p->var_alpha;
    d->level += p->alpha * (x - *season - d->level);
    *season += p->gamma * ((x - d->level) - *season);
    d->n++;
    if (out) *out = pt;
}
