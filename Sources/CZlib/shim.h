// zlib (Debian zlib1g-dev): gzip content coding of responses (RFC 9110 §8.4.1.3).
#include <zlib.h>

// deflateInit2 is a macro; Swift cannot call it. windowBits 15 + 16 selects the gzip wrapper.
static inline int pickupbox_gzip_init(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
