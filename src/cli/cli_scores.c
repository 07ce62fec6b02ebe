/* Scores of a model for people and for machines (train, eval). */
#include "cli/cli.h"
#include "kiln/evaluate.h"

/* Scores as a JSON object {"rows": n, name: value, ...}. */
json_t *cli_scores_json(const kn_scores *sc)
{
    json_t *j = json_pack("{s:I}", "rows", (json_int_t)sc->rows);
    for (size_t i = 0; i < sc->n; i++) json_object_set_new(j, sc->name[i], json_real(sc->value[i]));
    return j;
}

void cli_print_scores(const char *what, const kn_scores *s)
{
    printf("%s (%zu rows):", what, s->rows);
    for (size_t i = 0; i < s->n; i++) printf("  %s %.6g", s->name[i], s->value[i]);
    putchar('\n');
}
