// GMP (arbitrary-precision integers) and GMP-ECM (the elliptic curve method of factoring),
// from Debian's libgmp-dev and libecm1-dev.
#include <gmp.h>
#include <ecm.h>
