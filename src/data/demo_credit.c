/* kn_demo_credit: a synthetic credit-default table for `kiln demo`.
 *
 * Each applicant has a hidden creditworthiness c ~ N(0, 1) that the credit
 * score shows only with noise; the default is drawn from a logistic model of
 * c and the visible columns with hinges (debt-to-income above 0.35, a score
 * below 600, a short job), a U-shape in age, interactions (self-employed
 * applicants borrowing for a small business, a long term with a high
 * debt-to-income, a delinquency with a low score) and a slow
 * drift over the two years, so trees gain over a linear model but the
 * Bernoulli draw keeps the AUC near 0.83. The intercept gives about 8 %
 * defaults. */
#include "data/demo-impl.h"
#include "kiln/demo.h"
#include "kiln/rng.h"

#include <math.h>

static const char *const emp_types[] = {"salaried",   "self_employed", "contract",
                                        "unemployed", "student",       "retired"};
enum { SALARIED, SELF_EMPLOYED, CONTRACT, UNEMPLOYED, STUDENT, RETIRED };
static const char *const homes[] = {"rent", "mortgage", "own", "other"};
enum { RENT, MORTGAGE, OWN, OTHER };
static const double home_z[] = {0.2, 0.0, -0.2, 0.0}; /* default log-odds per home */
static const char *const regions[] = {"north", "south", "east", "west", "central"};
static const double region_p[] = {0.22, 0.24, 0.18, 0.20, 0.16};
static const double region_z[] = {0.0, 0.12, 0.0, -0.05, -0.1};
static const char *const purposes[] = {
    "debt_consolidation", "credit_card", "home_improvement", "car",     "major_purchase", "medical",
    "small_business",     "education",   "moving",           "vacation"};
enum { SMALL_BUSINESS = 6 };
static const double purpose_p[] = {0.40, 0.19, 0.09, 0.08, 0.06, 0.05, 0.05, 0.03, 0.02, 0.03};
/* log loan size relative to income, and default log-odds, per purpose */
static const double purpose_size[] = {0.1, -0.2, 0.2, -0.3, -0.2, -0.5, 0.4, 0.0, -0.6, -0.8};
static const double purpose_z[] = {0.0, -0.1, -0.1, -0.25, 0.0, 0.3, 0.4, 0.15, 0.1, 0.2};
/* log-income offset and log-odds per employment type */
static const double emp_income[] = {0.0, 0.1, -0.1, -0.9, -1.0, -0.4};
static const double emp_z[] = {0.0, 0.1, 0.25, 0.9, 0.4, 0.0};

enum {
    C_ID,
    C_DATE,
    C_AGE,
    C_INCOME,
    C_EMP_TYPE,
    C_EMP_YEARS,
    C_HOME,
    C_REGION,
    C_PURPOSE,
    C_LOAN,
    C_TERM,
    C_RATE,
    C_SCORE,
    C_DTI,
    C_OPEN,
    C_DELINQ,
    C_DEFAULT,
    N_COLS
};

static const kn__demo_col credit_cols[N_COLS] = {
    {"id", KN_COL_NUMERIC, KN_ROLE_ID},
    {"application_date", KN_COL_TIMESTAMP, KN_ROLE_FEATURE},
    {"age", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"income", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"employment_type", KN_COL_CATEGORICAL, KN_ROLE_FEATURE},
    {"employment_years", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"home_ownership", KN_COL_CATEGORICAL, KN_ROLE_FEATURE},
    {"region", KN_COL_CATEGORICAL, KN_ROLE_FEATURE},
    {"purpose", KN_COL_CATEGORICAL, KN_ROLE_FEATURE},
    {"loan_amount", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"term", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"interest_rate", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"credit_score", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"debt_to_income", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"n_open_accounts", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"n_delinquencies", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"default", KN_COL_NUMERIC, KN_ROLE_TARGET},
};

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* Index drawn from the n probabilities p (summing to 1). */
static int pick(kn_rng *r, const double *p, int n)
{
    double u = kn_rng_uniform(r), acc = 0;
    for (int k = 0; k < n - 1; k++) {
        acc += p[k];
        if (u < acc) return k;
    }
    return n - 1;
}

/* Poisson draw by multiplying uniforms (Knuth); lambda stays small here. */
static double poisson(kn_rng *r, double lambda)
{
    double limit = exp(-lambda), prod = kn_rng_uniform(r);
    int k = 0;
    while (prod > limit && k < 100) {
        prod *= kn_rng_uniform(r);
        k++;
    }
    return k;
}

static double logistic(double z)
{
    return 1 / (1 + exp(-z));
}

kn_status kn_demo_credit(size_t rows, uint64_t seed, kn_frame **out)
{
    kn_frame *f;
    kn_column *c[N_COLS];
    kn_status s = kn__demo_frame_new(credit_cols, N_COLS, rows, &f, c);
    if (s != KN_OK) return s;
    int32_t emp_code[6], home_code[4], region_code[5], purpose_code[10];
    if ((s = kn__demo_levels(c[C_EMP_TYPE], emp_types, 6, emp_code)) ||
        (s = kn__demo_levels(c[C_HOME], homes, 4, home_code)) ||
        (s = kn__demo_levels(c[C_REGION], regions, 5, region_code)) ||
        (s = kn__demo_levels(c[C_PURPOSE], purposes, 10, purpose_code))) {
        kn_frame_free(f);
        return s;
    }
    double *id = kn_column_f64(c[C_ID]), *age = kn_column_f64(c[C_AGE]);
    double *income = kn_column_f64(c[C_INCOME]), *emp_years = kn_column_f64(c[C_EMP_YEARS]);
    double *loan = kn_column_f64(c[C_LOAN]), *term = kn_column_f64(c[C_TERM]);
    double *rate = kn_column_f64(c[C_RATE]), *score = kn_column_f64(c[C_SCORE]);
    double *dti = kn_column_f64(c[C_DTI]), *n_open = kn_column_f64(c[C_OPEN]);
    double *n_delinq = kn_column_f64(c[C_DELINQ]), *dflt = kn_column_f64(c[C_DEFAULT]);
    int32_t *emp = kn_column_codes(c[C_EMP_TYPE]), *home = kn_column_codes(c[C_HOME]);
    int32_t *region = kn_column_codes(c[C_REGION]), *purpose = kn_column_codes(c[C_PURPOSE]);
    int64_t *date = kn_column_ts(c[C_DATE]);
    const int64_t t0 = 1672531200LL;   /* 2023-01-01T00:00:00Z */
    const double span = 730.0 * 86400; /* two years of applications, in id order */
    const double home_p_other = 0.03;
    kn_rng r;
    kn_rng_init(&r, seed);
    for (size_t i = 0; i < rows; i++) {
        /* about 0.5 % of rows repeat one of the 50 rows before them exactly */
        if (i > 0 && kn_rng_uniform(&r) < 0.005) {
            kn__demo_copy_row(f, i, i - 1 - (size_t)kn_rng_below(&r, i < 50 ? i : 50));
            continue;
        }
        double when = ((double)i + kn_rng_uniform(&r)) / (double)rows; /* in [0, 1) */
        id[i] = (double)(1000001 + i);
        date[i] = (t0 + (int64_t)(when * span)) * 1000000;
        double cw = kn_rng_normal(&r); /* hidden creditworthiness */
        double a = clamp(round(41 + 12 * kn_rng_normal(&r)), 19, 80);
        int et;
        double u = kn_rng_uniform(&r);
        if (a >= 63) {
            et = u < 0.65 ? RETIRED : u < 0.85 ? SALARIED : SELF_EMPLOYED;
        } else if (a < 25 && u < 0.35) {
            et = STUDENT;
        } else {
            static const double p[] = {0.66, 0.15, 0.13, 0.05, 0.01};
            et = pick(&r, p, 5);
        }
        double years;
        if (et == UNEMPLOYED || et == STUDENT)
            years = 0;
        else if (et == RETIRED)
            years = round(10 * (15 + 20 * kn_rng_uniform(&r))) / 10;
        else
            years = round(10 * fmin(a - 18, -6 * log1p(-kn_rng_uniform(&r)))) / 10;
        double lninc = 10.7 + 0.015 * fmin(a - 20, 25) + 0.02 * fmin(years, 15) + emp_income[et] +
                       (et == SELF_EMPLOYED ? 0.8 : 0.5) * kn_rng_normal(&r);
        double inc = round(exp(lninc) / 100) * 100;
        double p_mortgage = logistic(-0.8 + 0.05 * (a - 35) + 0.9 * (lninc - 10.8));
        double p_own = clamp(0.04 + 0.006 * (a - 30), 0.02, 0.3);
        u = kn_rng_uniform(&r);
        int ho = u < home_p_other                                                     ? OTHER
                 : u < home_p_other + p_own                                           ? OWN
                 : u < home_p_other + p_own + p_mortgage * (1 - home_p_other - p_own) ? MORTGAGE
                                                                                      : RENT;
        int rg = pick(&r, region_p, 5);
        int pu = pick(&r, purpose_p, 10);
        double amount = clamp(
            round(exp(log(inc * 0.22) + purpose_size[pu] + 0.5 * kn_rng_normal(&r)) / 50) * 50,
            1000, 40000);
        int long_term = kn_rng_uniform(&r) < 0.12 + 0.55 * logistic((amount - 15000) / 4000);
        double sc = clamp(
            round(690 + 55 * (0.8 * cw + 0.6 * kn_rng_normal(&r)) + 10 * (lninc - 10.8)), 300, 850);
        double delinq = poisson(&r, 0.3 * exp(-0.8 * cw));
        double open = poisson(&r, 7 + 0.05 * (a - 40));
        double ir = clamp(
            round(100 * (5 + 0.04 * (850 - sc) + 1.2 * long_term + 0.6 * kn_rng_normal(&r))) / 100,
            4.5, 30);
        double months = long_term ? 60 : 36, mr = ir / 1200;
        double payment = amount * mr / (1 - pow(1 + mr, -months));
        double other_debt = inc * (0.03 + 0.4 * pow(kn_rng_uniform(&r), 1.5));
        double d = clamp(round(1000 * (other_debt + 12 * payment) / inc) / 1000, 0, 3);

        double z = -4.0 - 0.75 * cw + 0.45 * fmin(delinq, 3) + 4.0 * fmax(0, d - 0.35) +
                   (sc < 600 ? 0.7 : 0) + (delinq >= 1 && sc < 650 ? 0.6 : 0) +
                   ((et == UNEMPLOYED || et == STUDENT) && amount > 10000 ? 0.8 : 0) +
                   0.45 * log(amount / inc) + 0.3 * long_term + 0.003 * (a - 45) * (a - 45) +
                   (years < 1 && et != RETIRED ? 0.5 : 0) + emp_z[et] + purpose_z[pu] +
                   (pu == SMALL_BUSINESS && et == SELF_EMPLOYED ? 0.9 : 0) +
                   (long_term && d > 0.35 ? 0.5 : 0) + home_z[ho] + region_z[rg] +
                   0.08 * fmax(0, open - 10) + 0.3 * when;
        dflt[i] = kn_rng_uniform(&r) < logistic(z) ? 1 : 0;

        /* what the application form shows, with its gaps and typos */
        age[i] = a;
        emp[i] = emp_code[et];
        emp_years[i] = kn_rng_uniform(&r) < 0.04 ? NAN : years;
        income[i] = kn_rng_uniform(&r) < 0.03 ? NAN : inc;
        home[i] = kn_rng_uniform(&r) < 0.02 ? -1 : home_code[ho];
        region[i] = region_code[rg];
        purpose[i] = purpose_code[pu];
        loan[i] = amount;
        term[i] = months;
        rate[i] = ir;
        score[i] = sc;
        dti[i] = kn_rng_uniform(&r) < 0.025 ? NAN : d;
        n_open[i] = open;
        n_delinq[i] = delinq;
        /* about 0.3 % of rows carry an impossible value a schema should catch */
        if (kn_rng_uniform(&r) < 0.003) {
            switch (kn_rng_below(&r, 3)) {
            case 0:
                income[i] = -inc;
                break;
            case 1:
                age[i] = 150;
                break;
            default:
                score[i] = 9999;
                break;
            }
        }
    }
    *out = f;
    return KN_OK;
}
