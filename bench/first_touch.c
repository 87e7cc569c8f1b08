/* What first touch of fresh memory costs on this machine: maps N MB, writes one
 * byte per 4 KiB page, and prints seconds and microseconds per page; then
 * writes the same memory again (no faults) for comparison.
 *
 *   gcc -O2 bench/first_touch.c -o /tmp/first_touch && /tmp/first_touch 400
 *   /tmp/first_touch 400 huge      # the same memory madvise(MADV_HUGEPAGE)d first
 *   /tmp/first_touch 400 populate  # faulted in by one madvise(MADV_POPULATE_WRITE)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double since(struct timespec a) {
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
}

int main(int argc, char **argv) {
    size_t mb = argc > 1 ? (size_t)atoi(argv[1]) : 400, n = mb << 20;
    struct timespec a;
    clock_gettime(CLOCK_MONOTONIC, &a);
    char *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    if (argc > 2 && strcmp(argv[2], "populate") == 0) {
        if (madvise(p, n, MADV_POPULATE_WRITE) != 0) return 2; /* every page at once */
    } else if (argc > 2) {
        madvise(p, n, MADV_HUGEPAGE); /* transparent huge pages, if allowed */
    }
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    double t = since(a);
    printf("%zu MB first touch: %.3f s, %.2f us a page\n", mb, t, t * 1e6 / (n / 4096));
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (size_t i = 0; i < n; i += 64) p[i] = 2;
    printf("the same memory again, every cache line: %.3f s\n", since(a));
    return 0;
}
