"""Key material and signatures for the Transit key types: generation, public
keys in the formats Vault returns, and sign/verify with Vault's options
(PSS salt lengths, PKCS#1 v1.5 with or without DigestInfo, ASN.1 or JWS
marshaling), plus Go's strict base64 rules for inputs and signatures."""

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.hazmat.primitives.asymmetric import rsa, utils

HASHES = {
    "sha1": hashes.SHA1, "sha2-224": hashes.SHA224,
    "sha2-256": hashes.SHA256, "sha2-384": hashes.SHA384,
    "sha2-512": hashes.SHA512, "sha3-224": hashes.SHA3_224,
    "sha3-256": hashes.SHA3_256, "sha3-384": hashes.SHA3_384,
    "sha3-512": hashes.SHA3_512, "none": None,
}

_EC_CURVES = {
    "ecdsa-p256": (ec.SECP256R1, "P-256", 32),
    "ecdsa-p384": (ec.SECP384R1, "P-384", 48),
    "ecdsa-p521": (ec.SECP521R1, "P-521", 66),
}
_RSA_BITS = {"rsa-2048": 2048, "rsa-3072": 3072, "rsa-4096": 4096}
_SYMMETRIC_BYTES = {"aes128-gcm96": 16, "aes256-gcm96": 32,
                    "chacha20-poly1305": 32, "xchacha20-poly1305": 32}
KEY_TYPES = set(_EC_CURVES) | set(_RSA_BITS) | set(_SYMMETRIC_BYTES) | {
    "ed25519"}


class UserError(Exception):
    """A caller mistake (Vault's errutil.UserError)."""


class InternalError(Exception):
    """Any other failure; Vault answers these with 500."""


def supports(key_type):
    """The supports_* flags that a key read reports."""
    symmetric = key_type in _SYMMETRIC_BYTES
    is_rsa = key_type in _RSA_BITS
    return {
        "supports_encryption": symmetric or is_rsa,
        "supports_decryption": symmetric or is_rsa,
        "supports_signing": not symmetric,
        "supports_derivation": symmetric or key_type == "ed25519",
    }


def hashes_input(key_type):
    """Whether signing hashes the input first (ed25519 signs it raw)."""
    return key_type in _EC_CURVES or key_type in _RSA_BITS


def generate(key_type):
    if key_type in _EC_CURVES:
        return ec.generate_private_key(_EC_CURVES[key_type][0]())
    if key_type in _RSA_BITS:
        return rsa.generate_private_key(65537, _RSA_BITS[key_type])
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return os.urandom(_SYMMETRIC_BYTES[key_type])


def public_key_name(key_type):
    if key_type in _EC_CURVES:
        return _EC_CURVES[key_type][1]
    return key_type


def public_key_text(key_type, private):
    """PEM SubjectPublicKeyInfo, or raw base64 for ed25519, as Vault."""
    public = private.public_key()
    if key_type == "ed25519":
        raw = public.public_bytes(serialization.Encoding.Raw,
                                  serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode()
    return public.public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class SignOptions:
    """hash_name is a HASHES key; salt_length uses Go's convention:
    0 = auto, -1 = the digest length, n > 0 = n bytes."""

    def __init__(self, hash_name, sig_algorithm, salt_length, marshaling):
        self.hash_name = hash_name
        self.sig_algorithm = sig_algorithm or "pss"
        self.salt_length = salt_length
        self.marshaling = marshaling


def digest_input(key_type, message, opts, prehashed):
    """What gets signed: the message hashed unless prehashed or ed25519."""
    hash_cls = HASHES[opts.hash_name]
    if not hashes_input(key_type) or prehashed or hash_cls is None:
        return message
    digest = hashes.Hash(hash_cls())
    digest.update(message)
    return digest.finalize()


def sign(key_type, private, data, opts):
    """Raw signature bytes (r||s for ECDSA with JWS marshaling)."""
    if key_type in _EC_CURVES:
        der = private.sign(data, ec.ECDSA(_prehashed(len(data))))
        if opts.marshaling == "jws":
            size = _EC_CURVES[key_type][2]
            r, s = utils.decode_dss_signature(der)
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        return der
    if key_type == "ed25519":
        return private.sign(data)
    return _rsa_sign(private, data, opts)


def verify(key_type, public, data, sig, opts):
    if key_type in _EC_CURVES:
        return _ec_verify(public, data, sig, opts)
    if key_type == "ed25519":
        try:
            public.verify(sig, data)
            return True
        except InvalidSignature:
            return False
    return _rsa_verify(public, data, sig, opts)


class _AnyLengthDigest(hashes.HashAlgorithm):
    # ECDSA in Go takes a digest of any length and truncates it to the
    # curve order; this lets Prehashed accept such a digest as it is.
    name = "vaultsim-any-length-digest"
    block_size = None

    def __init__(self, size):
        self._size = size

    @property
    def digest_size(self):
        return self._size


_BY_SIZE = {20: hashes.SHA1, 28: hashes.SHA224, 32: hashes.SHA256,
            48: hashes.SHA384, 64: hashes.SHA512}


def _prehashed(size):
    algorithm = _BY_SIZE[size]() if size in _BY_SIZE else _AnyLengthDigest(
        size)
    return utils.Prehashed(algorithm)


def _ec_verify(public, data, sig, opts):
    if opts.marshaling == "jws":
        half = len(sig) // 2
        der = utils.encode_dss_signature(
            int.from_bytes(sig[:half], "big"),
            int.from_bytes(sig[half:], "big"))
    else:
        try:
            utils.decode_dss_signature(sig)
        except ValueError:
            raise UserError("supplied signature is invalid")
        der = sig
    try:
        public.verify(der, data, ec.ECDSA(_prehashed(len(data))))
        return True
    except InvalidSignature:
        return False


def _max_salt(public, hash_cls):
    return (public.key_size - 1 + 7) // 8 - 2 - hash_cls.digest_size


def _pss_padding(public, hash_cls, salt_length, signing):
    if not -1 <= salt_length <= _max_salt(public, hash_cls):
        raise UserError("requested salt length %d is invalid" % salt_length)
    if salt_length == 0:
        salt = padding.PSS.MAX_LENGTH if signing else padding.PSS.AUTO
    elif salt_length == -1:
        salt = padding.PSS.DIGEST_LENGTH
    else:
        salt = salt_length
    return padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=salt)


def _rsa_sign(private, data, opts):
    hash_cls = HASHES[opts.hash_name]
    if opts.sig_algorithm == "pss":
        pad = _pss_padding(private.public_key(), hash_cls,
                           opts.salt_length, signing=True)
        if len(data) != hash_cls.digest_size:
            raise InternalError(
                "crypto/rsa: input must be hashed with given hash")
        return private.sign(data, pad, utils.Prehashed(hash_cls()))
    if opts.sig_algorithm == "pkcs1v15":
        if hash_cls is None:
            return _pkcs1_raw_sign(private, data)
        if len(data) != hash_cls.digest_size:
            raise InternalError("crypto/rsa: input must be hashed message")
        return private.sign(data, padding.PKCS1v15(),
                            utils.Prehashed(hash_cls()))
    raise InternalError(
        "unsupported rsa signature algorithm %s" % opts.sig_algorithm)


def _rsa_verify(public, data, sig, opts):
    hash_cls = HASHES[opts.hash_name]
    if opts.sig_algorithm == "pss":
        pad = _pss_padding(public, hash_cls, opts.salt_length, signing=False)
    elif opts.sig_algorithm == "pkcs1v15":
        if hash_cls is None:
            return _pkcs1_raw_verify(public, data, sig)
        pad = padding.PKCS1v15()
    else:
        raise InternalError(
            "unsupported rsa signature algorithm %s" % opts.sig_algorithm)
    if len(data) != hash_cls.digest_size:
        return False
    try:
        public.verify(sig, data, pad, utils.Prehashed(hash_cls()))
        return True
    except InvalidSignature:
        return False


def _pkcs1_encode(message, size):
    # EMSA-PKCS1-v1_5 without DigestInfo: what Go signs for crypto.Hash(0).
    if len(message) > size - 11:
        raise InternalError("crypto/rsa: message too long for RSA key size")
    return b"\x00\x01" + b"\xff" * (size - 3 - len(message)) + b"\x00" + (
        message)


def _pkcs1_raw_sign(private, message):
    numbers = private.private_numbers()
    size = (numbers.public_numbers.n.bit_length() + 7) // 8
    m = int.from_bytes(_pkcs1_encode(message, size), "big")
    # The CRT form of m^d mod n, several times faster than pow(m, d, n).
    m1 = pow(m, numbers.dmp1, numbers.p)
    m2 = pow(m, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (m1 - m2)) % numbers.p
    return (m2 + h * numbers.q).to_bytes(size, "big")


def _pkcs1_raw_verify(public, message, sig):
    numbers = public.public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    if len(sig) != size or len(message) > size - 11:
        return False
    value = pow(int.from_bytes(sig, "big"), numbers.e, numbers.n)
    return value.to_bytes(size, "big") == _pkcs1_encode(message, size)


_STD_CHARS = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_URL_CHARS = re.compile(r"[A-Za-z0-9_-]*")


def decode_std(text):
    """Padded standard base64, as Go's StdEncoding (no URL-safe chars)."""
    cleaned = text.replace("\r", "").replace("\n", "")
    match = _STD_CHARS.match(cleaned)
    if match.end() != len(cleaned):
        raise ValueError("illegal base64 data at input byte %d"
                         % match.end())
    if len(cleaned) % 4:
        raise ValueError("illegal base64 data at input byte %d"
                         % (len(cleaned) - len(cleaned) % 4))
    try:
        return base64.b64decode(cleaned, validate=True)
    except binascii.Error:
        raise ValueError("illegal base64 data at input byte 0")


def decode_raw_url(text):
    """Unpadded URL-safe base64, as Go's RawURLEncoding."""
    match = _URL_CHARS.match(text)
    if match.end() != len(text) or len(text) % 4 == 1:
        raise ValueError("illegal base64 data at input byte %d"
                         % match.end())
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_signature(sig, marshaling):
    if marshaling == "jws":
        return base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    return base64.b64encode(sig).decode()


def decode_signature(text, marshaling):
    if marshaling == "jws":
        return decode_raw_url(text)
    return decode_std(text)
