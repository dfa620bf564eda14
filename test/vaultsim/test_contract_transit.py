"""Contract tests of vaultsim's Transit engine through hvac: key shapes for
every key type, versions, config, trim and delete, and sign/verify with each
option, every signature checked independently with python3-cryptography
against the public key that read_key returned."""

import base64
import hashlib
import unittest

import hvac.exceptions as hx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.hazmat.primitives.asymmetric import rsa, utils

from simharness import SimTestCase, transit_call

KEY_TYPES = {
    "ecdsa-p256": "P-256", "ecdsa-p384": "P-384", "ecdsa-p521": "P-521",
    "ed25519": "ed25519", "rsa-2048": "rsa-2048", "rsa-3072": "rsa-3072",
    "rsa-4096": "rsa-4096",
}
READ_FIELDS = {
    "name", "type", "latest_version", "min_available_version",
    "min_decryption_version", "min_encryption_version", "supports_signing",
    "supports_encryption", "supports_decryption", "supports_derivation",
    "exportable", "deletion_allowed", "derived", "allow_plaintext_backup",
    "auto_rotate_period", "imported_key", "keys",
}
HASHES = {
    "sha1": hashes.SHA1, "sha2-224": hashes.SHA224,
    "sha2-256": hashes.SHA256, "sha2-384": hashes.SHA384,
    "sha2-512": hashes.SHA512, "sha3-224": hashes.SHA3_224,
    "sha3-256": hashes.SHA3_256, "sha3-384": hashes.SHA3_384,
    "sha3-512": hashes.SHA3_512,
}
MESSAGE = b"the quick brown fox"
MESSAGE_B64 = base64.b64encode(MESSAGE).decode()
EC_SIZES = {"ecdsa-p256": 32, "ecdsa-p384": 48, "ecdsa-p521": 66}


def wrapped(message):
    return "1 error occurred:\n\t* %s\n\n" % message


def digest(hash_name, data):
    h = hashes.Hash(HASHES[hash_name]())
    h.update(data)
    return h.finalize()


def split_signature(text, version=None):
    prefix, number, encoded = text.split(":", 2)
    assert prefix == "vault" and number.startswith("v"), text
    if version is not None:
        assert number == "v%d" % version, text
    return encoded


def decode_b64(encoded, jws):
    if jws:
        assert "=" not in encoded and "+" not in encoded, encoded
        assert "/" not in encoded, encoded
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    return base64.b64decode(encoded, validate=True)


def load_public(key_type, text):
    if key_type == "ed25519":
        raw = base64.b64decode(text, validate=True)
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    return serialization.load_pem_public_key(text.encode())


class Checker:
    """Independent verification of one Vault signature."""

    def __init__(self, key_type, public):
        self.key_type = key_type
        self.public = public

    def verify(self, sig_text, data, hash_name="sha2-256", prehashed=False,
               sig_algorithm="pss", salt=None, jws=False):
        raw = decode_b64(split_signature(sig_text), jws)
        if self.key_type == "ed25519":
            self.public.verify(raw, data)
            return
        algorithm = HASHES[hash_name]()
        wrapped_alg = utils.Prehashed(algorithm) if prehashed else algorithm
        if self.key_type.startswith("ecdsa"):
            if jws:
                size = EC_SIZES[self.key_type]
                self.assertEqual_len(raw, 2 * size)
                raw = utils.encode_dss_signature(
                    int.from_bytes(raw[:size], "big"),
                    int.from_bytes(raw[size:], "big"))
            self.public.verify(raw, data, ec.ECDSA(wrapped_alg))
            return
        if sig_algorithm == "pkcs1v15":
            pad = padding.PKCS1v15()
        else:
            pad = padding.PSS(padding.MGF1(algorithm), salt)
        self.public.verify(raw, data, pad, wrapped_alg)

    @staticmethod
    def assertEqual_len(raw, size):
        assert len(raw) == size, (len(raw), size)


def max_salt(public, hash_name):
    return (public.key_size + 6) // 8 - 2 - HASHES[hash_name].digest_size


class TransitTest(SimTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root.sys.enable_secrets_engine(backend_type="transit",
                                           path="transit")
        for key_type in KEY_TYPES:
            cls.root.secrets.transit.create_key(name="k-" + key_type,
                                                key_type=key_type)

    def checker(self, name, version=1):
        data = self.root.secrets.transit.read_key(name=name)["data"]
        public = load_public(data["type"], data["keys"][str(version)][
            "public_key"])
        return Checker(data["type"], public)

    def sign(self, name, **params):
        params.setdefault("input", MESSAGE_B64)
        return transit_call(self.root, "sign", name, **params)["data"]

    def verify(self, name, signature, **params):
        params.setdefault("input", MESSAGE_B64)
        return transit_call(self.root, "verify", name, signature=signature,
                            **params)["data"]["valid"]

    def post(self, path, body, status):
        resp = self.sim.raw("POST", "transit/" + path, body=body)
        self.assertEqual(resp.status_code, status, resp.text)
        return resp.json()

    def test_read_shape_for_every_type(self):
        for key_type, version_name in KEY_TYPES.items():
            data = self.root.secrets.transit.read_key(
                name="k-" + key_type)["data"]
            self.assertEqual(set(data), READ_FIELDS)
            self.assertEqual((data["type"], data["latest_version"],
                              data["supports_signing"]),
                             (key_type, 1, True))
            self.assertEqual((data["min_decryption_version"],
                              data["min_encryption_version"],
                              data["min_available_version"]), (1, 0, 0))
            version = data["keys"]["1"]
            self.assertEqual(set(version), {"name", "public_key",
                                            "creation_time",
                                            "certificate_chain"})
            self.assertEqual(version["name"], version_name)
            public = load_public(key_type, version["public_key"])
            self.check_public_key(key_type, public, version["public_key"])

    def check_public_key(self, key_type, public, text):
        if key_type == "ed25519":
            self.assertFalse(text.startswith("-----"))
        else:
            self.assertTrue(text.startswith("-----BEGIN PUBLIC KEY-----\n"))
        if key_type.startswith("rsa"):
            self.assertIsInstance(public, rsa.RSAPublicKey)
            self.assertEqual(public.key_size, int(key_type[4:]))
        elif key_type.startswith("ecdsa"):
            self.assertEqual(public.curve.name,
                             "secp%sr1" % key_type[-3:])

    def test_default_sign_and_verify_for_every_type(self):
        for key_type in KEY_TYPES:
            name = "k-" + key_type
            signed = self.sign(name)
            self.assertEqual(signed["key_version"], 1)
            checker = self.checker(name)
            salt = None
            if key_type.startswith("rsa"):
                salt = max_salt(checker.public, "sha2-256")
            checker.verify(signed["signature"], MESSAGE, salt=salt)
            self.assertTrue(self.verify(name, signed["signature"]))
            self.assertFalse(self.verify(name, signed["signature"],
                                         input=base64.b64encode(
                                             b"other").decode()))

    def test_every_hash_algorithm(self):
        for name in ("k-ecdsa-p256", "k-rsa-2048"):
            checker = self.checker(name)
            for hash_name in HASHES:
                signed = self.sign(name, hash_algorithm=hash_name,
                                   signature_algorithm="pkcs1v15")
                checker.verify(signed["signature"], MESSAGE, hash_name,
                               sig_algorithm="pkcs1v15")
                self.assertTrue(self.verify(
                    name, signed["signature"], hash_algorithm=hash_name,
                    signature_algorithm="pkcs1v15"))
        self.assertEqual(self.post("sign/k-rsa-2048", {
            "input": MESSAGE_B64, "hash_algorithm": "sha2-999"}, 400),
            {"errors": ['invalid hash algorithm "sha2-999"']})

    def test_prehashed_input(self):
        for name, hash_name in (("k-ecdsa-p384", "sha2-384"),
                                ("k-rsa-2048", "sha2-512")):
            value = digest(hash_name, MESSAGE)
            signed = self.sign(name, input=base64.b64encode(value).decode(),
                               hash_algorithm=hash_name, prehashed=True,
                               signature_algorithm="pkcs1v15")
            self.checker(name).verify(signed["signature"], value, hash_name,
                                      prehashed=True,
                                      sig_algorithm="pkcs1v15")
            # Prehashed over the message equals signing the message.
            self.checker(name).verify(signed["signature"], MESSAGE,
                                      hash_name, sig_algorithm="pkcs1v15")

    def test_rsa_prehashed_digest_length_is_checked(self):
        short = base64.b64encode(b"\x01" * 20).decode()
        answer = self.post("sign/k-rsa-2048", {
            "input": short, "prehashed": True,
            "signature_algorithm": "pkcs1v15"}, 500)
        self.assertEqual(answer["errors"], [
            wrapped("crypto/rsa: input must be hashed message")])

    def test_ecdsa_digest_length_is_not_checked(self):
        value = hashlib.sha1(MESSAGE).digest()
        signed = self.sign("k-ecdsa-p256",
                           input=base64.b64encode(value).decode(),
                           prehashed=True, hash_algorithm="sha2-256")
        self.checker("k-ecdsa-p256").verify(signed["signature"], value,
                                            "sha1", prehashed=True)

    def test_hash_none_signs_raw_input_without_digest_info(self):
        raw_input = b"raw bytes, no DigestInfo"
        signed = self.post("sign/k-rsa-2048", {
            "input": base64.b64encode(raw_input).decode(),
            "hash_algorithm": "none", "prehashed": True,
            "signature_algorithm": "pkcs1v15"}, 200)["data"]
        public = self.checker("k-rsa-2048").public
        sig = decode_b64(split_signature(signed["signature"]), False)
        numbers = public.public_numbers()
        size = public.key_size // 8
        block = pow(int.from_bytes(sig, "big"), numbers.e,
                    numbers.n).to_bytes(size, "big")
        expected = b"\x00\x01" + b"\xff" * (size - 3 - len(raw_input)) + (
            b"\x00" + raw_input)
        self.assertEqual(block, expected)
        answer = self.post("sign/k-rsa-2048", {
            "input": MESSAGE_B64, "hash_algorithm": "none"}, 400)
        self.assertIn("hash_algorithm=none requires", answer["errors"][0])

    def test_pss_salt_lengths(self):
        checker = self.checker("k-rsa-3072")
        most = max_salt(checker.public, "sha2-256")
        for salt_length, salt in (("auto", most), ("0", most), ("hash", 32),
                                  ("20", 20)):
            signed = self.sign("k-rsa-3072", salt_length=salt_length)
            checker.verify(signed["signature"], MESSAGE, salt=salt)
            self.assertTrue(self.verify("k-rsa-3072", signed["signature"],
                                        salt_length=salt_length))
        for bad in ("foo", "-2"):
            self.post("sign/k-rsa-3072", {"input": MESSAGE_B64,
                                          "salt_length": bad}, 400)
        answer = self.post("sign/k-rsa-3072", {"input": MESSAGE_B64,
                                               "salt_length": "1000"}, 500)
        self.assertEqual(answer["errors"], [
            wrapped("requested salt length 1000 is invalid")])

    def test_jws_marshaling_for_every_type(self):
        for key_type in KEY_TYPES:
            name = "k-" + key_type
            signed = self.sign(name, marshaling_algorithm="jws")
            checker = self.checker(name)
            salt = None
            if key_type.startswith("rsa"):
                salt = max_salt(checker.public, "sha2-256")
            checker.verify(signed["signature"], MESSAGE, salt=salt, jws=True)
            self.assertTrue(self.verify(name, signed["signature"],
                                        marshaling_algorithm="jws"))

    def test_ed25519_is_pure_only(self):
        for extra in ({"prehashed": True}, {"hash_algorithm": "sha2-512"},
                      {"hash_algorithm": "sha2-256"}):
            answer = self.post("sign/k-ed25519",
                               dict(extra, input=MESSAGE_B64), 400)
            self.assertIn("only Pure Ed25519", answer["errors"][0])

    def test_input_must_be_standard_base64(self):
        answer = self.post("sign/k-ecdsa-p256", {"input": "-_8="}, 400)
        self.assertIn("unable to decode input", answer["errors"][0])
        self.post("sign/k-ecdsa-p256", {"input": "+/8="}, 200)

    def test_missing_and_unsuitable_keys(self):
        self.assertVaultError(
            hx.InvalidRequest,
            lambda: self.root.secrets.transit.sign_data(
                name="nope", hash_input=MESSAGE_B64),
            "signing key not found")
        self.assertVaultError(
            hx.InvalidRequest,
            lambda: self.root.secrets.transit.verify_signed_data(
                name="nope", hash_input=MESSAGE_B64,
                signature="vault:v1:AA=="),
            "signature verification key not found")
        created = self.root.secrets.transit.create_key(name="symmetric")
        self.assertEqual(created["data"]["type"], "aes256-gcm96")
        self.assertFalse(created["data"]["supports_signing"])
        self.assertIsInstance(created["data"]["keys"]["1"], int)
        self.assertVaultError(
            hx.InvalidRequest,
            lambda: self.root.secrets.transit.sign_data(
                name="symmetric", hash_input=MESSAGE_B64),
            "key type aes256-gcm96 does not support signing")

    def test_unknown_type_and_bad_names(self):
        self.assertEqual(self.post("keys/odd", {"type": "rsa-1024"}, 400),
                         {"errors": ["unknown key type rsa-1024"]})
        for bad in ("-lead", "trail.", "two%20words"):
            resp = self.sim.raw("POST", "transit/keys/" + bad,
                                body={"type": "ed25519"})
            self.assertEqual(resp.status_code, 404, bad)
        self.post("keys/ok.name-1_x", {"type": "ed25519"}, 200)

    def test_versions_rotate_config_trim(self):
        transit = self.root.secrets.transit
        transit.create_key(name="rot", key_type="ecdsa-p256")
        rotated = transit.rotate_key(name="rot")
        self.assertEqual(rotated["data"]["latest_version"], 2)
        for version in (1, 2):
            signed = self.sign("rot", key_version=version)
            self.assertEqual(signed["key_version"], version)
            split_signature(signed["signature"], version)
            self.checker("rot", version).verify(signed["signature"], MESSAGE)
        old = self.sign("rot", key_version=1)["signature"]
        self.assertEqual(self.post("sign/rot", {"input": MESSAGE_B64,
                                                "key_version": 3}, 500),
                         {"errors": [wrapped(
                             "requested version for signing is higher than "
                             "the latest key version")]})
        # Two calls: hvac itself refuses min_encryption == min_decryption.
        transit.update_key_configuration(name="rot", min_encryption_version=2)
        transit.update_key_configuration(name="rot", min_decryption_version=2)
        self.assertEqual(self.post("sign/rot", {"input": MESSAGE_B64,
                                                "key_version": 1}, 500),
                         {"errors": [wrapped(
                             "requested version for signing is less than the "
                             "minimum encryption key version")]})
        answer = self.post("verify/rot", {"input": MESSAGE_B64,
                                          "signature": old}, 400)
        self.assertIn("too old", answer["errors"][0])
        transit.trim_key(name="rot", min_version=2)
        data = transit.read_key(name="rot")["data"]
        self.assertEqual(sorted(data["keys"]), ["2"])
        self.assertEqual(data["min_available_version"], 2)

    def test_rotate_missing_key(self):
        self.assertVaultError(
            hx.InvalidRequest,
            lambda: self.root.secrets.transit.rotate_key(name="ghost"),
            "key not found")

    def test_delete_needs_deletion_allowed(self):
        transit = self.root.secrets.transit
        transit.create_key(name="doomed", key_type="ed25519")
        self.assertVaultError(hx.InvalidRequest,
                              lambda: transit.delete_key(name="doomed"),
                              "deletion is not allowed")
        transit.update_key_configuration(name="doomed", deletion_allowed=True)
        self.assertEqual(transit.delete_key(name="doomed").status_code, 204)
        with self.assertRaises(hx.InvalidPath):
            transit.read_key(name="doomed")

    def test_batch_sign_and_verify(self):
        items = [{"input": MESSAGE_B64, "reference": "a"},
                 {"input": "not base64!", "reference": "b"},
                 {"input": base64.b64encode(b"x").decode()}]
        results = self.post("sign/k-ecdsa-p521", {"batch_input": items},
                            200)["data"]["batch_results"]
        self.assertEqual([r["reference"] for r in results], ["a", "b", ""])
        self.assertIn("error", results[1])
        self.assertEqual(results[0]["key_version"], 1)
        self.checker("k-ecdsa-p521").verify(results[0]["signature"], MESSAGE)
        checks = [{"input": MESSAGE_B64, "signature": results[0][
            "signature"], "reference": "good"},
                  {"input": MESSAGE_B64, "signature": results[2][
                      "signature"], "reference": "bad"}]
        verified = self.post("verify/k-ecdsa-p521", {"batch_input": checks},
                             200)["data"]["batch_results"]
        self.assertEqual([(v["valid"], v["reference"]) for v in verified],
                         [(True, "good"), (False, "bad")])

    def test_weakly_typed_sign_fields(self):
        value = digest("sha2-256", MESSAGE)
        signed = self.post("sign/k-ecdsa-p256", {
            "input": base64.b64encode(value).decode(), "prehashed": "true",
            "key_version": "0"}, 200)["data"]
        self.checker("k-ecdsa-p256").verify(signed["signature"], MESSAGE)

    def test_tampered_signature_is_invalid_not_an_error(self):
        signed = self.sign("k-ecdsa-p256")["signature"]
        body = bytearray(decode_b64(split_signature(signed), False))
        body[-1] ^= 1
        tampered = "vault:v1:" + base64.b64encode(bytes(body)).decode()
        self.assertFalse(self.verify("k-ecdsa-p256", tampered))
        with self.assertRaises(InvalidSignature):
            self.checker("k-ecdsa-p256").verify(tampered, MESSAGE)


if __name__ == "__main__":
    unittest.main()
