"""X-Wing (draft-connolly-cfrg-xwing-kem-06) and HPKE base mode over it (RFC 9180, KEM id
0x647a), written from the two documents on an independent ML-KEM-768 (kyber-py, FIPS 203),
Python's X25519, SHA3 and SHAKE, and `cryptography`'s HMAC and AES-GCM: none of
swift-crypto's code, so the service's post-quantum seals are checked by a second
implementation. retrieval_peer.py exposes it to the tests.
"""
import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from kyber_py.ml_kem import ML_KEM_768

KEM_ID = 0x647A
# The draft's label, the six ASCII characters \./ and /^\ (section 5.1).
LABEL = b"\\./" + b"/^\\"
PUBLIC_KEY_BYTES = 1216
CIPHERTEXT_BYTES = 1120
ML_KEM_PUBLIC_KEY_BYTES = 1184
ML_KEM_CIPHERTEXT_BYTES = 1088


def _x25519(scalar, point):
    return X25519PrivateKey.from_private_bytes(scalar).exchange(X25519PublicKey.from_public_bytes(point))


def _x25519_base(scalar):
    return X25519PrivateKey.from_private_bytes(scalar).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def expand_decapsulation_key(sk):
    """The draft's expandDecapsulationKey: the 32-byte seed into both components' keys."""
    assert len(sk) == 32, "an X-Wing secret key is a 32-byte seed"
    expanded = hashlib.shake_256(sk).digest(96)
    pk_m, sk_m = ML_KEM_768._keygen_internal(expanded[0:32], expanded[32:64])
    sk_x = expanded[64:96]
    return sk_m, sk_x, pk_m, _x25519_base(sk_x)


def public_key(sk):
    _, _, pk_m, pk_x = expand_decapsulation_key(sk)
    return pk_m + pk_x


def _combiner(ss_m, ss_x, ct_x, pk_x):
    return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + LABEL).digest()


def encapsulate(pk, eseed):
    """The draft's EncapsulateDerand: eseed is 64 bytes (ML-KEM's m, then the X25519 scalar)."""
    assert len(pk) == PUBLIC_KEY_BYTES and len(eseed) == 64
    pk_m, pk_x = pk[:ML_KEM_PUBLIC_KEY_BYTES], pk[ML_KEM_PUBLIC_KEY_BYTES:]
    ek_x = eseed[32:64]
    ct_x = _x25519_base(ek_x)
    ss_x = _x25519(ek_x, pk_x)
    ss_m, ct_m = ML_KEM_768._encaps_internal(pk_m, eseed[0:32])
    return _combiner(ss_m, ss_x, ct_x, pk_x), ct_m + ct_x


def decapsulate(ct, sk):
    assert len(ct) == CIPHERTEXT_BYTES
    sk_m, sk_x, _, pk_x = expand_decapsulation_key(sk)
    ct_m, ct_x = ct[:ML_KEM_CIPHERTEXT_BYTES], ct[ML_KEM_CIPHERTEXT_BYTES:]
    return _combiner(ML_KEM_768.decaps(sk_m, ct_m), _x25519(sk_x, ct_x), ct_x, pk_x)


# HPKE base mode (RFC 9180 sections 4 and 5.1) with X-Wing, HKDF-SHA256 (0x0001) and
# AES-256-GCM (0x0002). X-Wing's shared secret is HPKE's shared_secret as is (draft section 6).
_SUITE_ID = b"HPKE" + KEM_ID.to_bytes(2, "big") + (1).to_bytes(2, "big") + (2).to_bytes(2, "big")


def _labeled_extract(salt, label, ikm):
    return hmac.new(salt or bytes(32), b"HPKE-v1" + _SUITE_ID + label + ikm, hashlib.sha256).digest()


def _labeled_expand(prk, label, info, length):
    labeled_info = length.to_bytes(2, "big") + b"HPKE-v1" + _SUITE_ID + label + info
    out, block = b"", b""
    counter = 1
    while len(out) < length:
        block = hmac.new(prk, block + labeled_info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def _key_schedule(shared_secret, info):
    psk_id_hash = _labeled_extract(b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash   # mode_base
    secret = _labeled_extract(shared_secret, b"secret", b"")
    return _labeled_expand(secret, b"key", context, 32), _labeled_expand(secret, b"base_nonce", context, 12)


def seal(pk, info, aad, plaintext, eseed):
    """SetupBaseS then the first Seal (sequence 0, so the nonce is the base nonce)."""
    shared_secret, enc = encapsulate(pk, eseed)
    key, nonce = _key_schedule(shared_secret, info)
    return enc, AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(sk, info, aad, enc, ciphertext):
    """SetupBaseR then the first Open."""
    key, nonce = _key_schedule(decapsulate(enc, sk), info)
    return AESGCM(key).decrypt(nonce, ciphertext, aad)


def check_vectors(vectors):
    """The draft's test vectors (Appendix C): keys from seeds, encapsulation from eseeds, and
    decapsulation; returns the failures as text (empty if every vector holds)."""
    failures = []
    for i, v in enumerate(vectors):
        sk, eseed = bytes.fromhex(v["seed"]), bytes.fromhex(v["eseed"])
        pk = public_key(sk)
        if hashlib.sha3_256(pk).hexdigest() != v["pk_sha3_256"]:
            failures.append(f"vector {i}: public key")
        ss, ct = encapsulate(pk, eseed)
        if ct.hex() != v["ct"]:
            failures.append(f"vector {i}: ciphertext")
        if ss.hex() != v["ss"]:
            failures.append(f"vector {i}: encapsulated shared secret")
        if decapsulate(bytes.fromhex(v["ct"]), sk).hex() != v["ss"]:
            failures.append(f"vector {i}: decapsulated shared secret")
    return failures
