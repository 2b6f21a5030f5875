// mallopt is declared in <malloc.h>, which Swift's Glibc module does not import.
#include "plumb_support.h"
#if defined(__GLIBC__)
#include <malloc.h>
void plumb_tune_malloc(int arena_max, int mmap_threshold, int trim_threshold, int top_pad) {
    mallopt(M_ARENA_MAX, arena_max);
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
    mallopt(M_TOP_PAD, top_pad);
}
int plumb_malloc_trim(void) { return malloc_trim(0); }
void plumb_malloc_figures(unsigned long long *system, unsigned long long *in_use, unsigned long long *free_bytes) {
    struct mallinfo2 m = mallinfo2();
    *system = (unsigned long long)(m.arena + m.hblkhd);
    *in_use = (unsigned long long)(m.uordblks + m.hblkhd);
    *free_bytes = (unsigned long long)m.fordblks;
}
#else
int plumb_malloc_trim(void) { return 0; }
void plumb_malloc_figures(unsigned long long *system, unsigned long long *in_use, unsigned long long *free_bytes) {
    *system = 0; *in_use = 0; *free_bytes = 0;
}
void plumb_tune_malloc(int arena_max, int mmap_threshold, int trim_threshold, int top_pad) {
    (void)arena_max; (void)mmap_threshold; (void)trim_threshold; (void)top_pad;
}
#endif
