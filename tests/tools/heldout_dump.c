/* Test tool: an artifact's held-out predictions (its HELDOUT section) as
 * CSV on stdout, one row per held-out row in the run's order: "prediction"
 * (the class label, or the value), then a "proba_<class>" column per class
 * for a classifier; numbers as %.17g, so that they compare bit for bit with
 * kiln predict's. usage: heldout_dump ARTIFACT.kiln */
#include "kiln/artifact.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: heldout_dump ARTIFACT.kiln\n");
        return 2;
    }
    kn_artifact *a = NULL;
    kn_heldout h = {0};
    size_t len = 0;
    const void *bytes = NULL;
    kn_status e = kn_artifact_read(argv[1], NULL, &a);
    if (e == KN_OK && !(bytes = kn_artifact_get(a, KN_ART_HELDOUT, &len)))
        e = kn_fail(KN_ERR_NOT_FOUND, "%s keeps no held-out predictions", argv[1]);
    if (e == KN_OK) e = kn_heldout_decode(bytes, len, argv[1], &h);
    if (e != KN_OK) {
        fprintf(stderr, "heldout_dump: %s\n", kn_last_error());
        kn_artifact_free(a);
        return 1;
    }
    printf("prediction");
    for (size_t c = 0; h.classification && c < h.k; c++) printf(",proba_%s", h.classes[c]);
    printf("\n");
    for (size_t i = 0; i < h.n; i++) {
        if (h.classification)
            printf("%s", h.classes[(size_t)h.pred[i]]);
        else
            printf("%.17g", h.pred[i]);
        for (size_t c = 0; h.classification && h.proba && c < h.k; c++)
            printf(",%.17g", h.proba[i * h.k + c]);
        printf("\n");
    }
    kn_heldout_free(&h);
    kn_artifact_free(a);
    return 0;
}
