// Debian's libsecp256k1 (libsecp256k1-dev) with its ECDSA public-key recovery module, which
// Ethereum signatures need (the signer is recovered from (r, s, v), not sent).
#include <secp256k1.h>
#include <secp256k1_recovery.h>
