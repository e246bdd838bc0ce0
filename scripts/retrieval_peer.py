#!/usr/bin/env python3
"""An independent client of the result-retrieval protocol (openapi.yml, POST
/v1/jobs/{jobId}/fhe-result), written from the spec with Python's `cryptography` and `pyhpke`
and none of the service's code. The Swift tests call it to sign requests, open seals and check
the service's answers, so that the protocol is checked by a second implementation.

    retrieval_peer.py vectors                     # prints the spec's test vectors (JSON)
    retrieval_peer.py sign KEY.pem MESSAGE_HEX    # DER ECDSA P-256/SHA-256 signature, hex
    retrieval_peer.py open KEY.pem INFO_HEX AAD_HEX ENC_B64 CT_B64   # the plaintext, UTF-8
    retrieval_peer.py verify PUBLIC_B64 MESSAGE_HEX SIGNATURE_B64    # Ed25519; exit 1 if bad
    retrieval_peer.py check-answer PUBLIC_B64 NONCE ANSWER_JSON      # the answer's signature
    retrieval_peer.py xwing-vectors FILE          # the X-Wing draft's vectors; exit 1 if one fails
    retrieval_peer.py xwing-public SEED_HEX       # an X-Wing public key from its seed, base64
    retrieval_peer.py xwing-open SEED_HEX INFO_HEX AAD_HEX ENC_B64 CT_B64  # the plaintext, UTF-8

X-Wing and HPKE over it are xwing.py's, on kyber-py's ML-KEM-768 (pyhpke has no X-Wing).
"""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pyhpke import AEADId, CipherSuite, KDFId, KEMId, KEMKey

import xwing

SUITE = CipherSuite.new(KEMId.DHKEM_P256_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def request_message(job, nonce, result, sealing_key=None):
    text = f"fhe-jobs fhe-result v1\njob: {job}\nnonce: {nonce}\nresult: {result}\n"
    if sealing_key is not None:
        text += f"sealing-key: {hashlib.sha256(sealing_key).hexdigest()}\n"
    return text.encode()


def response_message(job, nonce, result, suite, sealed_digest, confirmation):
    return (f"fhe-jobs fhe-result-response v1\njob: {job}\nnonce: {nonce}\nresult: {result}\n"
            f"suite: {suite}\nsealed: {sealed_digest}\nconfirmation: {confirmation}\n").encode()


def padded_outputs(outputs):
    """{"outputs":{...}} for [(name, type, value)] with u8..u32/bool scalars, padded as the spec says."""
    longest_scalar = {"bool": 5, "u8": 3, "u16": 5, "u32": 10, "u64": 22}
    parts, longest = [], len('{"outputs":{') + 2
    for i, (name, kind, value) in enumerate(outputs):
        key = json.dumps(name) + ":"
        text = ('"%d"' % value) if kind == "u64" else json.dumps(value)
        parts.append(key + text)
        longest += len(key) + longest_scalar[kind] + (1 if i > 0 else 0)
    body = ('{"outputs":{' + ",".join(parts) + "}}").encode()
    return body + b" " * (longest - len(body))


def sign(key, message):
    return key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


def vectors():
    scalar = int.from_bytes(hashlib.sha256(b"fhe-jobs retrieval test vector: client key").digest(), "big") % P256_ORDER
    client = ec.derive_private_key(scalar, ec.SECP256R1())
    client_pem = client.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    job = "6f1c0b6e-2d3a-4c5b-9e8f-0a1b2c3d4e5f"
    nonce = "test-vector-nonce-0001"
    result = hashlib.sha256(b"fhe-jobs retrieval test vector: result").hexdigest()
    message = request_message(job, nonce, result)
    der = sign(client, message)
    r, s = decode_dss_signature(der)
    info = f"fhe-jobs fhe-result v1 {job}".encode()
    plaintext = padded_outputs([("sum", "u32", 10), ("max", "u16", 4)])
    ikm_e = hashlib.sha256(b"fhe-jobs retrieval test vector: ikmE").digest()
    ephemeral = SUITE.kem.derive_key_pair(ikm_e)
    recipient = KEMKey.from_pyca_cryptography_key(client.public_key())
    enc, sender = SUITE.create_sender_context(recipient, info, eks=ephemeral)
    ciphertext = sender.seal(plaintext, message)
    seed = hashlib.sha256(b"fhe-jobs retrieval test vector: service key").digest()
    service = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    confirmation = hashlib.sha256(b"fhe-jobs retrieval test vector: ledger entry").hexdigest()
    response = response_message(job, nonce, result, "0010,0001,0002", hashlib.sha256(enc + ciphertext).hexdigest(), confirmation)
    # A sealing key of its own (P-256, uncompressed): the message gains its digest line.
    sealing = ec.derive_private_key(int.from_bytes(hashlib.sha256(b"fhe-jobs retrieval test vector: sealing key").digest(), "big") % P256_ORDER,
                                    ec.SECP256R1())
    sealing_point = sealing.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    # An X-Wing sealing key from its 32-byte seed, and a seal to it from a fixed 64-byte eseed
    # (the draft's EncapsulateDerand): the post-quantum answer, reproducible.
    xwing_seed = hashlib.sha256(b"fhe-jobs retrieval test vector: x-wing key").digest()
    xwing_public = xwing.public_key(xwing_seed)
    xwing_eseed = hashlib.sha512(b"fhe-jobs retrieval test vector: x-wing eseed").digest()
    xwing_message = request_message(job, nonce, result, xwing_public)
    xwing_enc, xwing_ciphertext = xwing.seal(xwing_public, info, xwing_message, plaintext, xwing_eseed)
    return {
        "clientPrivateKeyHex": "%064x" % scalar,
        "clientPublicKeyPEM": client_pem,
        "jobId": job,
        "retrievalNonce": nonce,
        "resultHash": result,
        "messageHex": message.hex(),
        "signatureDERHex": der.hex(),
        "signatureRawHex": "%064x%064x" % (r, s),
        "signatureHighSRawHex": "%064x%064x" % (r, P256_ORDER - s),
        "infoHex": info.hex(),
        "plaintextHex": plaintext.hex(),
        "ikmEHex": ikm_e.hex(),
        "encHex": enc.hex(),
        "ciphertextHex": ciphertext.hex(),
        "serviceSeedHex": seed.hex(),
        "servicePublicKeyHex": service.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex(),
        "confirmationReference": confirmation,
        "responseHex": response.hex(),
        "serviceSignatureHex": service.sign(response).hex(),
        "sealingKeyHex": sealing_point.hex(),
        "messageWithSealingKeyHex": request_message(job, nonce, result, sealing_point).hex(),
        "xWingSeedHex": xwing_seed.hex(),
        "xWingSealingKeyBase64": base64.b64encode(xwing_public).decode(),
        "xWingEseedHex": xwing_eseed.hex(),
        "messageWithXWingKeyHex": xwing_message.hex(),
        "xWingEncHex": xwing_enc.hex(),
        "xWingCiphertextHex": xwing_ciphertext.hex(),
    }


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "vectors":
        print(json.dumps(vectors(), indent=2, sort_keys=True))
    elif command == "sign":
        key = serialization.load_pem_private_key(open(argv[2], "rb").read(), password=None)
        print(key.sign(bytes.fromhex(argv[3]), ec.ECDSA(hashes.SHA256())).hex())
    elif command == "open":
        key = serialization.load_pem_private_key(open(argv[2], "rb").read(), password=None)
        recipient = KEMKey.from_pyca_cryptography_key(key)
        info, aad = bytes.fromhex(argv[3]), bytes.fromhex(argv[4])
        context = SUITE.create_recipient_context(base64.b64decode(argv[5]), recipient, info)
        sys.stdout.write(context.open(base64.b64decode(argv[6]), aad).decode())
    elif command == "check-answer":
        # The answer's message built from the answer alone, as the spec states it.
        public = ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(argv[2]))
        nonce, answer = argv[3], json.loads(argv[4])
        if "sealed" in answer:
            sealed = answer["sealed"]
            suite = "%04x,%04x,%04x" % (sealed["suite"]["kem"], sealed["suite"]["kdf"], sealed["suite"]["aead"])
            digest = hashlib.sha256(base64.b64decode(sealed["enc"]) + base64.b64decode(sealed["ciphertext"])).hexdigest()
        else:
            suite, digest = "none", hashlib.sha256(base64.b64decode(answer["ciphertext"])).hexdigest()
        confirmation = (answer.get("confirmation") or {}).get("reference", "none")
        message = response_message(answer["jobId"], nonce, answer["resultHash"], suite, digest, confirmation)
        try:
            public.verify(base64.b64decode(answer["serviceSignature"]), message)
        except Exception:
            print("bad signature", file=sys.stderr)
            return 1
        print("ok")
    elif command == "xwing-vectors":
        failures = xwing.check_vectors(json.load(open(argv[2]))["vectors"])
        for failure in failures:
            print(failure, file=sys.stderr)
        if failures:
            return 1
        print("ok")
    elif command == "xwing-public":
        print(base64.b64encode(xwing.public_key(bytes.fromhex(argv[2]))).decode())
    elif command == "xwing-open":
        info, aad = bytes.fromhex(argv[3]), bytes.fromhex(argv[4])
        plaintext = xwing.open_sealed(bytes.fromhex(argv[2]), info, aad, base64.b64decode(argv[5]), base64.b64decode(argv[6]))
        sys.stdout.write(plaintext.decode())
    elif command == "verify":
        public = ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(argv[2]))
        try:
            public.verify(base64.b64decode(argv[4]), bytes.fromhex(argv[3]))
        except Exception:
            print("bad signature", file=sys.stderr)
            return 1
        print("ok")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
