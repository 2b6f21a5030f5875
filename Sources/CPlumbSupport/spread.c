// Spreading a column's present values to their rows with AVX-512's expanding loads: eight
// 64-bit (or sixteen 32-bit) rows per instruction where the scalar loop takes one. Chosen at
// run time; a CPU without AVX-512 (or a build for another architecture) keeps the Swift loop.
#include "plumb_support.h"
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

// Eight 0/1 bytes to eight bits (row i -> bit i): each byte's bit lands in the top byte of
// the product at its own place, with no carries between them.
static inline unsigned pack8(const bool *v) {
    uint64_t x;
    memcpy(&x, v, 8);
    return (unsigned)((x * 0x0102040810204080ULL) >> 56);
}

__attribute__((target("avx512f")))
static size_t spread64(const uint64_t *dense, size_t ndense, const bool *valid, size_t rows, uint64_t *out, size_t *used) {
    size_t k = 0, i = 0;
    for (; i + 8 <= rows; i += 8) {
        unsigned m = pack8(valid + i);
        unsigned n = (unsigned)__builtin_popcount(m);
        if (k + n > ndense) break;               // fewer values than present rows: the caller's loop
        _mm512_storeu_si512((void *)(out + i), _mm512_maskz_expandloadu_epi64((__mmask8)m, dense + k));
        k += n;
    }
    *used = k;
    return i;
}

__attribute__((target("avx512f")))
static size_t spread32(const uint32_t *dense, size_t ndense, const bool *valid, size_t rows, uint32_t *out, size_t *used) {
    size_t k = 0, i = 0;
    for (; i + 16 <= rows; i += 16) {
        unsigned m = pack8(valid + i) | pack8(valid + i + 8) << 8;
        unsigned n = (unsigned)__builtin_popcount(m);
        if (k + n > ndense) break;
        _mm512_storeu_si512((void *)(out + i), _mm512_maskz_expandloadu_epi32((__mmask16)m, dense + k));
        k += n;
    }
    *used = k;
    return i;
}

size_t plumb_spread(const void *dense, size_t ndense, const bool *valid, size_t rows, void *out, int width, size_t *used) {
    *used = 0;
    // Reads the CPU model the runtime filled in at load time: no state of our own to race on.
    if (!__builtin_cpu_supports("avx512f")) return 0;
    if (width == 8) return spread64((const uint64_t *)dense, ndense, valid, rows, (uint64_t *)out, used);
    if (width == 4) return spread32((const uint32_t *)dense, ndense, valid, rows, (uint32_t *)out, used);
    return 0;
}
#else
size_t plumb_spread(const void *dense, size_t ndense, const bool *valid, size_t rows, void *out, int width, size_t *used) {
    (void)dense; (void)ndense; (void)valid; (void)rows; (void)out; (void)width;
    *used = 0;
    return 0;
}
#endif
