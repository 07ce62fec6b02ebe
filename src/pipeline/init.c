/* kn_init: every layer's builtin components. It lives in the top library
 * layer (pipelines register no components of their own: a pipeline is built
 * from the steps and models below). */
#include "kiln/init.h"

void kn_init(void)
{
    kn_learn_register();
}
