// The system zlib (Debian: zlib1g-dev), through which gzip export parts are decoded.
#include <zlib.h>
