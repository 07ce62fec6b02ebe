/* ISO-8601 timestamps <-> microseconds since the Unix epoch (UTC). */
#include "data/parse-impl.h"

#include <stdio.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds since the epoch. */
#define KN__TS_FIRST_SECOND (-62167219200LL)
#define KN__TS_LAST_SECOND (253402300799LL)

static int digits(const char *p, const char *end, int n, int *out)
{
    if (end - p < n) return 0;
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((unsigned)(p[i] - '0') > 9) return 0;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

int kn__parse_timestamp(const char *p, const char *end, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, s = 0;
    int64_t frac_us = 0;
    if (!digits(p, end, 4, &y) || end - p < 10 || p[4] != '-' || !digits(p + 5, end, 2, &mo) ||
        p[7] != '-' || !digits(p + 8, end, 2, &d))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return 0;
    p += 10;
    int64_t offset_s = 0;
    if (p < end && (*p == 'T' || *p == ' ')) {
        p++;
        if (!digits(p, end, 2, &h) || end - p < 5 || p[2] != ':' || !digits(p + 3, end, 2, &mi))
            return 0;
        p += 5;
        if (p < end && *p == ':') {
            if (!digits(p + 1, end, 2, &s)) return 0;
            p += 3;
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                int n = 0;
                while (p < end && (unsigned)(*p - '0') <= 9) {
                    if (n < 6) frac_us = frac_us * 10 + (*p - '0');
                    n++;
                    p++;
                }
                if (n == 0) return 0;
                for (; n < 6; n++) frac_us *= 10;
            }
        }
        if (h > 23 || mi > 59 || s > 60) return 0;
        if (p < end && *p == 'Z') {
            p++;
        } else if (p < end && (*p == '+' || *p == '-')) {
            int sign = *p == '-' ? -1 : 1, oh, om = 0;
            p++;
            if (!digits(p, end, 2, &oh)) return 0;
            p += 2;
            if (p < end && *p == ':') p++;
            if (p < end) {
                if (!digits(p, end, 2, &om)) return 0;
                p += 2;
            }
            if (oh > 23 || om > 59) return 0;
            offset_s = sign * (oh * 3600 + om * 60);
        }
    }
    if (p != end) return 0;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_s;
    /* An offset can carry 0000-01-01 or 9999-12-31 into a year that has no
     * four-digit form; such a time could never be written back, so it is not one. */
    if (secs < KN__TS_FIRST_SECOND || secs > KN__TS_LAST_SECOND) return 0;
    *out = secs * 1000000 + frac_us;
    return 1;
}

int kn__format_timestamp(int64_t us, char *buf, size_t cap)
{
    int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int64_t frac = us - secs * 1000000;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int hh = (int)(rem / 3600), mm = (int)(rem % 3600 / 60), ss = (int)(rem % 60);
    if (frac)
        return snprintf(buf, cap, "%04lld-%02d-%02dT%02d:%02d:%02d.%06lldZ", (long long)y, m, d, hh,
                        mm, ss, (long long)frac);
    if (hh == 0 && mm == 0 && ss == 0)
        return snprintf(buf, cap, "%04lld-%02d-%02d", (long long)y, m, d);
    return snprintf(buf, cap, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, hh, mm, ss);
}

void kn__put_timestamp(FILE *fp, int64_t us)
{
    char buf[48];
    int n = kn__format_timestamp(us, buf, sizeof buf);
    fwrite(buf, 1, (size_t)n, fp);
}
