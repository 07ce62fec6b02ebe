/* NumPy-order summation (see kiln/sum.h). */
#include "kiln/sum.h"

double kn_sum_pairwise(const double *v, size_t n)
{
    if (n < 8) {
        double s = 0.;
        for (size_t i = 0; i < n; i++) s += v[i];
        return s;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) r[j] = v[j];
        size_t i = 8;
        for (; i < n - n % 8; i += 8)
            for (int j = 0; j < 8; j++) r[j] += v[i + j];
        double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) s += v[i];
        return s;
    }
    size_t half = n / 2;
    half -= half % 8;
    return kn_sum_pairwise(v, half) + kn_sum_pairwise(v + half, n - half);
}
