/* Kolmogorov-Smirnov p-values as scipy.stats.ks_2samp gives them by
 * default (kiln/drift.h): the exact two-sample distribution by counting
 * lattice paths, and the one-sample distribution of D_n (Simard and
 * L'Ecuyer's choice of method per (n, d)) for the asymptotic branch. */
#include "kiln/drift.h"
#include "kiln/mem.h"
#include "learn/eval/compare-impl.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

enum { KS_EXACT_MAX_N = 10000 };

/* log(n! / n^n): Stirling's series above 140, the sum below. */
static double log_fact_over_pow(double n)
{
    if (n <= 140) {
        double s = 0;
        for (double i = 1; i <= n; i++) s += log(i / n);
        return s;
    }
    double r = 1 / n;
    return -n + 0.5 * log(2 * M_PI * n) + r * (1.0 / 12 - r * r * (1.0 / 360 - r * r / 1260));
}

/* One-sided P(D+_n >= x), Birnbaum and Tingey's sum, term by term in logs. */
static double smirnov_sf(double n, double x)
{
    if (x >= 1) return 0;
    if (x <= 0) return 1;
    double sum = 0, lx = log(x), lgn = lgamma(n + 1);
    double top = floor(n * (1 - x));
    for (double j = 0; j <= top; j++) {
        double a = 1 - x - j / n, b = x + j / n;
        if (a <= 0) continue;
        double lt = lgn - lgamma(j + 1) - lgamma(n - j + 1) + (n - j) * log(a) + (j - 1) * log(b);
        sum += exp(lt + lx);
    }
    return sum > 1 ? 1 : sum;
}

/* c = a * b for m x m matrices. */
static void mat_mul(const double *a, const double *b, double *c, size_t m)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++) {
            double s = 0;
            for (size_t k = 0; k < m; k++) s += a[i * m + k] * b[k * m + j];
            c[i * m + j] = s;
        }
}

/* P(D_n < d), Durbin's matrix (Marsaglia, Tsang and Wang 2003): the
 * (k, k) entry of H^n times n!/n^n, with powers scaled to stay finite. */
static double kolmogorov_durbin(double n, double d)
{
    size_t k = (size_t)floor(n * d) + 1, m = 2 * k - 1;
    double h = (double)k - n * d;
    double *H = kn_calloc(m * m * 4, sizeof *H);
    if (!H) return NAN;
    double *P = H + m * m, *T = P + m * m, *Q = T + m * m;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            if (i + 1 >= j) H[i * m + j] = exp(-lgamma((double)(i + 2 - j)));
    for (size_t i = 0; i < m; i++) {
        H[i * m] -= pow(h, (double)(i + 1)) * exp(-lgamma((double)(i + 2)));
        H[(m - 1) * m + i] -= pow(h, (double)(m - i)) * exp(-lgamma((double)(m - i + 1)));
    }
    if (2 * h - 1 > 0) H[(m - 1) * m] += pow(2 * h - 1, (double)m) * exp(-lgamma((double)m + 1));
    /* P = H^n by squaring; the exponents (base 2) kept apart */
    long ep = 0, eh = 0;
    for (size_t i = 0; i < m; i++) P[i * m + i] = 1;
    for (uint64_t e = (uint64_t)n; e; e >>= 1) {
        if (e & 1) {
            mat_mul(P, H, T, m);
            memcpy(P, T, m * m * sizeof *P);
            ep += eh;
            int x = 0;
            frexp(P[(k - 1) * m + k - 1], &x);
            if (x > 300 || x < -300)
                for (size_t i = 0; i < m * m; i++) P[i] = ldexp(P[i], -x);
            if (x > 300 || x < -300) ep += x;
        }
        if (e > 1) {
            mat_mul(H, H, Q, m);
            memcpy(H, Q, m * m * sizeof *H);
            eh *= 2;
            double big = 0;
            for (size_t i = 0; i < m * m; i++) big = fmax(big, fabs(H[i]));
            int x = 0;
            frexp(big, &x);
            if (x > 300)
                for (size_t i = 0; i < m * m; i++) H[i] = ldexp(H[i], -x);
            if (x > 300) eh += x;
        }
    }
    double s = P[(k - 1) * m + k - 1];
    kn_free(H);
    if (!(s > 0)) return 0;
    return exp(log(s) + (double)ep * M_LN2 + log_fact_over_pow(n));
}

/* P(D_n < x), Pelz and Good's series in 1/sqrt(n) (K0..K3 of z = x sqrt n). */
static double kolmogorov_pelz_good(double n, double x)
{
    const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2, r2pi = sqrt(2 * M_PI);
    double z = sqrt(n) * x, z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
    double qlog = -pi2 / 8 / z2;
    if (qlog < -708) return 0;
    double q = exp(qlog);
    double k1a = -z2, k1b = pi2 / 4;
    double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16;
    double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
    double k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * z4 * z4;
    double K[4] = {0, 0, 0, 0};
    int top = (int)ceil(16 * z / M_PI);
    for (int k = top; k > 0; k--) { /* sums over odd m = 2k - 1 of c(m) q^(m^2), Horner in q^8k */
        double m = 2.0 * k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
        double qp = pow(q, 8.0 * k);
        double c[4] = {1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                       k3a + k3b * m2 + k3c * m4 + k3d * m6};
        for (int i = 0; i < 4; i++) K[i] = K[i] * qp + c[i];
    }
    double div[4] = {z, 6 * z4, 72 * z4 * z3, 6480 * z6 * z4};
    for (int i = 0; i < 4; i++) K[i] = K[i] * q * r2pi / div[i];
    double qq = exp(-pi2 / 2 / z2), s2 = 0, s3 = 0, r3z = sqrt(3.0) * z;
    for (int k = top; k > 0; k--) {
        double k2 = (double)k * k, qk = pow(qq, k2), kp = M_PI * k;
        s2 += k2 * qk;
        s3 += (r3z + kp) * (r3z - kp) * k2 * qk;
    }
    K[2] += s2 * pi2 * r2pi / (-36 * z3);
    K[3] += s3 * pi2 * r2pi / (216 * z6);
    double sum = 0;
    for (int i = 0; i < 4; i++) sum += K[i] / pow(n, i / 2.0);
    return sum;
}

static double clip01(double p)
{
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

double kn_kstwo_sf(double d, double n)
{
    if (!(n >= 1) || isnan(d)) return NAN;
    if (d >= 1) return 0;
    if (d <= 0) return 1;
    double t = n * d;
    if (t <= 1) { /* Ruben and Gambino */
        if (t <= 0.5) return 1;
        return clip01(1 - exp(log_fact_over_pow(n) + n * log(2 * t - 1)));
    }
    if (t >= n - 1) return clip01(2 * pow(1 - d, n));
    double nx2 = t * d;
    /* past 370 the survival function is under 2 exp(-740), zero in doubles
     * (Smirnov's sum for d >= 0.5 would take O(n) terms to say so) */
    if (n > 140 && nx2 >= 370) return 0;
    if (d >= 0.5) return clip01(2 * smirnov_sf(n, d));
    if (n <= 140) {
        if (nx2 <= 4) return clip01(1 - kolmogorov_durbin(n, d));
        return clip01(2 * smirnov_sf(n, d));
    }
    if (nx2 >= 370) return 0;
    if (nx2 >= 2.2) return clip01(2 * smirnov_sf(n, d));
    double cdf = n <= 100000 && n * pow(d, 1.5) <= 1.4 ? kolmogorov_durbin(n, d)
                                                       : kolmogorov_pelz_good(n, d);
    return clip01(1 - clip01(cdf));
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int64_t floor_div(int64_t a, int64_t b) /* b > 0 */
{
    int64_t q = a / b;
    return q * b > a ? q - 1 : q;
}

/* P(D >= h / lcm(m, n)) of two samples of sizes m and n: the share of the
 * C(m + n, n) monotone lattice paths from (0, 0) to (m, n) that leave the
 * band |x n - y m| < h g. Column by column over x, w(x, y) is the share of
 * the paths into (x, y) that have left it (1 at a point outside):
 * w(x, y) = w(x - 1, y) x / (x + y) + w(x, y - 1) y / (x + y).
 * The share that left is summed directly rather than taken as one minus
 * the share that stayed, so a tiny p-value keeps its digits (scipy's
 * exact method gives 1.5e-262 where one minus the inside share stops at
 * 1.1e-16): every term is positive, nothing cancels. */
static kn_status ks_exact_p(uint64_t m, uint64_t n, uint64_t h, double *p)
{
    int64_t g = (int64_t)gcd_u64(m, n), lim = (int64_t)h * g, M = (int64_t)m, N = (int64_t)n;
    double *prev = kn_calloc(n + 1, sizeof *prev), *cur = kn_calloc(n + 1, sizeof *cur);
    if (!prev || !cur) {
        kn_free(prev), kn_free(cur);
        return KN_ERR_NOMEM;
    }
    int64_t plo = 0, phi = -1;
    double outside = 1; /* every path has left when the band closes before (m, n) */
    for (int64_t x = 0; x <= M; x++) {
        /* y inside: x n - lim < y m < x n + lim */
        int64_t lo = floor_div(x * N - lim, M) + 1, hi = -floor_div(-(x * N + lim), M) - 1;
        if (lo < 0) lo = 0;
        if (hi > N) hi = N;
        if (lo > hi) break;
        for (int64_t y = lo; y <= hi; y++) {
            double v;
            if (x == 0 && y == 0)
                v = 0;
            else {
                double left = x == 0 ? 0 : y >= plo && y <= phi ? prev[y] : 1;
                double below = y == 0 ? 0 : y > lo ? cur[y - 1] : 1;
                v = (left * (double)x + below * (double)y) / (double)(x + y);
            }
            cur[y] = v;
        }
        double *t = prev;
        prev = cur;
        cur = t;
        plo = lo;
        phi = hi;
        if (x == M) outside = N >= lo && N <= hi ? prev[N] : 1;
    }
    kn_free(prev), kn_free(cur);
    *p = clip01(outside);
    return KN_OK;
}

kn_status kn__ks_p(double d, size_t ma, size_t mb, size_t exact_cells, double *d_out, double *p)
{
    *d_out = d;
    if (ma <= KS_EXACT_MAX_N && mb <= KS_EXACT_MAX_N) {
        /* D on the lattice of the sizes (a sample's D is on the sample's),
         * whichever p follows: kiln serve (exact_cells) and kiln monitor
         * check then report the same D for the same rows */
        uint64_t g = gcd_u64(ma, mb), lcm = (ma / g) * mb;
        uint64_t h = (uint64_t)nearbyint(d * (double)lcm);
        *d_out = (double)h / (double)lcm;
        if (!exact_cells || (double)ma * (double)mb <= (double)exact_cells) {
            if (h == 0) {
                *p = 1;
                return KN_OK;
            }
            return ks_exact_p(ma, mb, h, p);
        }
    }
    double big = (double)(ma > mb ? ma : mb), small = (double)(ma > mb ? mb : ma);
    *p = kn_kstwo_sf(*d_out, nearbyint(big * small / (big + small)));
    return KN_OK;
}

kn_status kn_ks_2samp_auto(const double *a, size_t na, const double *b, size_t nb, double *d,
                           double *p)
{
    size_t ma = 0, mb = 0;
    double *sa = kn__sorted_present(a, na, &ma), *sb = kn__sorted_present(b, nb, &mb);
    kn_status e = sa && sb ? KN_OK : KN_ERR_NOMEM;
    *d = *p = NAN;
    if (e == KN_OK && ma && mb) e = kn__ks_p(kn__ks_sorted(sa, ma, sb, mb), ma, mb, 0, d, p);
    kn_free(sa), kn_free(sb);
    return e;
}
