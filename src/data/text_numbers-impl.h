/* Internal: a text column that is numbers (or dates) but for a few cells, the usual
 * sign of an unlisted missing-value marker ('n/a', '-', 'unknown') or a typo
 * that made the reader type the whole column as text. Used to warn in
 * profiles and to say why in the errors of models and task choice. */
#ifndef KILN_TEXT_NUMBERS_IMPL_H
#define KILN_TEXT_NUMBERS_IMPL_H

#include "kiln/frame.h"

#include <stddef.h>
#include <stdint.h>

#define KN__TEXT_NUMBERS_SHOWN 3

typedef struct kn__text_numbers {
    uint64_t cells;   /* non-missing cells */
    int times;        /* 1: the cells are mostly ISO-8601 times, not numbers */
    uint64_t numbers; /* cells that read as a number (times: as a time) */
    uint64_t others;  /* cells that do not */
    size_t n_tokens;  /* distinct values that are not numbers */
    size_t shown;     /* the first few of them, in order of their first row */
    char token[KN__TEXT_NUMBERS_SHOWN][40];
    uint64_t token_cells[KN__TEXT_NUMBERS_SHOWN];
    size_t token_row[KN__TEXT_NUMBERS_SHOWN]; /* 0-based row of the first cell */
    int integers;                             /* every number is a whole number */
    uint64_t distinct;                        /* distinct numbers */
} kn__text_numbers;

/* Scans a categorical or string column (others: 0, *t zeroed). Returns 1
 * when the column holds numbers (or, t->times, ISO-8601 dates and times)
 * but for a few cells: at least 5 of them, at most 3 distinct other values,
 * and those fill at most 5 % of the cells.
 * t->others may be 0: every cell a number (a column declared text, or the
 * part of a file, such as training rows, without the cells that made the
 * reader type it as text). */
int kn__text_numbers_scan(const kn_column *c, size_t n_rows, kn__text_numbers *t);

/* "'n/a' (1 cell, row 31)" or "'-' (4 cells, first at row 2), 'x' (...)",
 * rows 1-based, into buf. Returns buf. */
const char *kn__text_numbers_say(const kn__text_numbers *t, char *buf, size_t cap);

/* The reader's default missing tokens with those of t added, as one
 * --missing value ("NA,...,?,n/a"), into buf. Returns buf. */
const char *kn__text_numbers_missing(const kn__text_numbers *t, char *buf, size_t cap);

/* Returns 1 when every value of a categorical or string column (at least
 * 5) is a number and some are written with a comma ("1,234.5", "12,5",
 * "1.234,5": thousands separators or a decimal comma, which the readers do
 * not take); the first such value and its 0-based row into example, *row. */
int kn__text_comma_numbers(const kn_column *c, size_t n_rows, char example[40], size_t *row);

#endif
