/* Kiln's embedded demo datasets, deterministic for a given seed:
 *
 * - kn_demo_frame: a synthetic customer-churn table that shows off every
 *   column type and the data problems `kiln describe` reports (missing
 *   values, a skewed amount, an ID column, a constant column, duplicate rows).
 * - kn_demo_credit: a synthetic credit-default table for `kiln demo`'s run
 *   end to end: one row per loan application, in order of application over
 *   two years (2023-2024). Columns: id (role id), application_date,
 *   age, income (log-normal), employment_type, employment_years,
 *   home_ownership, region, purpose (10 levels), loan_amount, term (36 or 60
 *   months), interest_rate, credit_score, debt_to_income, n_open_accounts,
 *   n_delinquencies and the target `default` (0/1, about 8 % ones) drawn from
 *   a logistic model with interactions and hinges (on 50,000 rows a GBDT's
 *   cross-validated AUC is about 0.83, a logistic regression's on one-hot
 *   and scaled columns about 0.82). Its dirt: missing cells in
 *   employment_years (~4 %), income (~3 %), debt_to_income (~2.5 %) and
 *   home_ownership (~2 %); about 0.5 % exact duplicate rows; about 0.3 %
 *   rows with an impossible value (income < 0, age 150 or credit_score 9999)
 *   for a schema to quarantine.
 *
 *     kn_frame *f;
 *     kn_demo_credit(50000, 42, &f);
 *     kn_frame_write(f, "credit.csv", "csv");
 */
#ifndef KILN_DEMO_H
#define KILN_DEMO_H

#include "kiln/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Returns a new frame of `rows` rows; free with kn_frame_free(). */
KN_API kn_status kn_demo_frame(size_t rows, uint64_t seed, kn_frame **out);
/* Returns a new frame of `rows` loan applications; free with kn_frame_free(). */
KN_API kn_status kn_demo_credit(size_t rows, uint64_t seed, kn_frame **out);

#ifdef __cplusplus
}
#endif
#endif
