/* The sanitizer build's leak check still finds leaks, and only leaks, in a
 * program linked as the others are (tools/lsan_prefault.c maps the
 * runtimes' memory before the check): one block of 77 bytes lost, one of 55
 * still held by a global. ctest (tests/CMakeLists.txt, KILN_SANITIZE only)
 * expects LeakSanitizer's report of the first and not of the second. */
#include <stdio.h>
#include <stdlib.h>

/* extern, so that the compiler keeps the store (a static never read may go) */
void *lsan_probe_held;

/* the pointer to the lost block lives only in this frame, gone on return */
__attribute__((noinline)) static int lose_a_block(int argc)
{
    char *volatile lost = malloc(77);
    if (!lost) return -1;
    lost[0] = (char)argc;
    return lost[0];
}

int main(int argc, char **argv)
{
    (void)argv;
    lsan_probe_held = malloc(55);
    if (!lsan_probe_held) return 2;
    printf("%d\n", lose_a_block(argc));
    return 0;
}
