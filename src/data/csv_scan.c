#include "data/csv-impl.h"

#include <string.h>

csv_scan_status kn__csv_scan_field(const char *p, const char *end, char delim, csv_field *f,
                                   const char **next)
{
    if (p < end && *p == '"') {
        const char *q = p + 1;
        f->start = q;
        f->quoted = 1;
        f->escaped = 0;
        for (;;) {
            const char *x = memchr(q, '"', (size_t)(end - q));
            if (!x) {
                *next = p;
                return CSV_SCAN_UNTERMINATED;
            }
            if (x + 1 < end && x[1] == '"') {
                f->escaped = 1;
                q = x + 2;
                continue;
            }
            f->end = x;
            q = x + 1;
            if (q < end && *q != delim && !csv_is_record_end(q, end)) {
                *next = q;
                return CSV_SCAN_AFTER_QUOTE;
            }
            *next = q;
            return CSV_SCAN_OK;
        }
    }
    const char *q = p;
    while (q < end) {
        char c = *q;
        if (c == delim || c == '\n') break;
        if (c == '\r' && (q + 1 == end || q[1] == '\n')) break;
        q++;
    }
    f->start = p;
    f->end = q;
    f->quoted = 0;
    f->escaped = 0;
    *next = q;
    return CSV_SCAN_OK;
}

/* Past the terminator at p (p is at a record end). */
static const char *skip_terminator(const char *p, const char *end)
{
    if (p < end && *p == '\r') p++;
    if (p < end && *p == '\n') p++;
    return p;
}

const char *kn__csv_next_record(const char *p, const char *end, char delim, int *complete)
{
    for (;;) {
        csv_field f;
        const char *next;
        csv_scan_status s = kn__csv_scan_field(p, end, delim, &f, &next);
        if (s == CSV_SCAN_UNTERMINATED) {
            *complete = 0;
            return end;
        }
        if (s == CSV_SCAN_AFTER_QUOTE) {
            /* Resynchronise at the next delimiter or line end. */
            while (next < end && *next != delim && *next != '\n') next++;
        }
        if (next < end && *next == delim) {
            p = next + 1;
            continue;
        }
        if (next == end) {
            *complete = 0;
            return end;
        }
        *complete = 1;
        return skip_terminator(next, end);
    }
}

size_t kn__csv_count_fields(const char *p, const char *end, char delim)
{
    size_t n = 1;
    for (;;) {
        csv_field f;
        const char *next;
        csv_scan_status s = kn__csv_scan_field(p, end, delim, &f, &next);
        if (s == CSV_SCAN_UNTERMINATED) return n;
        if (s == CSV_SCAN_AFTER_QUOTE)
            while (next < end && *next != delim && *next != '\n') next++;
        if (next < end && *next == delim) {
            n++;
            p = next + 1;
            continue;
        }
        return n;
    }
}

size_t kn__csv_unescape(const csv_field *f, char *buf)
{
    size_t n = 0;
    for (const char *p = f->start; p < f->end; p++) {
        buf[n++] = *p;
        if (*p == '"' && p + 1 < f->end && p[1] == '"') p++;
    }
    return n;
}

char kn__csv_sniff(const char *buf, size_t len)
{
    static const char cand[] = {',', '\t', ';', '|'};
    enum { LINES = 20 };
    size_t counts[4][LINES];
    memset(counts, 0, sizeof counts);
    size_t lines = 0;
    int inq = 0;
    for (size_t i = 0; i < len && lines < LINES; i++) {
        char c = buf[i];
        if (c == '"') inq = !inq;
        if (inq) continue;
        if (c == '\n') {
            lines++;
            continue;
        }
        for (int k = 0; k < 4; k++)
            if (c == cand[k]) counts[k][lines]++;
    }
    if (lines < LINES && len && buf[len - 1] != '\n') lines++; /* last line without newline */
    if (lines > LINES) lines = LINES;
    int best = 0;
    size_t best_score = 0;
    for (int k = 0; k < 4; k++) {
        /* consistent: the same nonzero count on every line */
        size_t c0 = counts[k][0], score = 0;
        int same = c0 > 0;
        for (size_t l = 1; l < lines; l++) same &= counts[k][l] == c0;
        if (same)
            score = 1000000 + c0;
        else
            for (size_t l = 0; l < lines; l++) score += counts[k][l] > 0;
        if (score > best_score) {
            best_score = score;
            best = k;
        }
    }
    return cand[best];
}
