#include <zlib.h>

// deflateInit2 is a macro Swift does not import: a function wrapper for gzip framing
// (windowBits 15 + 16 writes the gzip header and trailer).
static inline int plumb_deflate_init_gzip(z_stream *s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
static inline int plumb_inflate_init_gzip(z_stream *s) {
    return inflateInit2(s, 15 + 16);
}
