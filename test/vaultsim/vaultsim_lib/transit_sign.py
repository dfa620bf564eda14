"""Transit sign/ and verify/ for one mount: Vault's arguments (hash, salt
length, marshaling, prehashed, key version, batch input), its checks and
error texts, and "vault:vN:" signatures. The crypto is in transit_crypto."""

import re

from . import framework as fw
from . import transit_crypto as tc
from .framework import Field, Response

SIGN_FIELDS = {
    "name": Field("str"), "input": Field("str"), "context": Field("str"),
    "signature_context": Field("str"),
    "hash_algorithm": Field("str", default="sha2-256"),
    "algorithm": Field("str", default="sha2-256"),
    "urlalgorithm": Field("str"), "key_version": Field("int"),
    "prehashed": Field("bool"), "signature_algorithm": Field("str"),
    "marshaling_algorithm": Field("str", default="asn1"),
    "salt_length": Field("str", default="auto"),
    "batch_input": Field("slice"),
}
VERIFY_FIELDS = dict(SIGN_FIELDS, signature=Field("str"),
                     hmac=Field("str"), cmac=Field("str"),
                     mac_length=Field("int"))
del VERIFY_FIELDS["key_version"]


class SignArgs:
    """The request-wide sign/verify arguments."""

    def __init__(self, data):
        self.hash_name = (data.get("urlalgorithm")
                          or data.get("hash_algorithm")
                          or data.get("algorithm") or "sha2-256")
        if self.hash_name not in tc.HASHES:
            raise fw.user_error('invalid hash algorithm "%s"' % self.hash_name)
        marshaling = data.get("marshaling_algorithm")
        if marshaling not in ("asn1", "jws"):
            raise fw.user_error('invalid marshaling type "%s"' % marshaling)
        self.hash_given = any(data.present(f) for f in (
            "urlalgorithm", "hash_algorithm", "algorithm"))
        self.prehashed = data.get("prehashed")
        self.sig_algorithm = data.get("signature_algorithm")
        self.options = tc.SignOptions(self.hash_name, self.sig_algorithm,
                                      _salt_length(data), marshaling)

    def check_key(self, key):
        if not tc.supports(key.type)["supports_signing"]:
            raise fw.user_error(
                "key type %s does not support signing" % key.type)
        if self.hash_name == "none" and not (
                self.prehashed and self.sig_algorithm == "pkcs1v15"):
            raise fw.user_error("hash_algorithm=none requires both "
                                "prehashed=true and "
                                "signature_algorithm=pkcs1v15")

    def check_ed25519(self, key):
        # Vault 1.19+ Community: only pure Ed25519. Vault itself rejects an
        # explicit sha2-512 only; any hash_algorithm is refused here so that
        # a client which sends one is caught. The misspelling is Vault's.
        if key.type != "ed25519":
            return
        if self.prehashed:
            raise ValueError("failed to parse batch item: only Pure Ed25519 "
                             "signatures supported, prehashed must be false")
        if self.hash_given:
            raise ValueError("failed to parse batch item: only Pure Ed25519 "
                             "signatures supported, hash_alogithm should not "
                             "be set")


def _salt_length(data):
    text = data.get("salt_length").lower()
    if text == "auto":
        return 0
    if text == "hash":
        return -1
    if not re.fullmatch(r"[+-]?\d+", text):
        raise fw.user_error(
            "salt length neither 'auto', 'hash', nor an int: %s" % text)
    value = int(text)
    if value < -1:
        raise fw.user_error("salt length is invalid: %d" % value)
    return value


class Signing:
    """The sign and verify handlers of one TransitBackend."""

    def __init__(self, backend):
        self.backend = backend

    def sign(self, req, data):
        args = SignArgs(data)
        key = self.backend.key(data.get("name"))
        if key is None:
            raise fw.user_error("signing key not found")
        args.check_key(key)
        items, batch = _sign_items(data)
        results = [self._sign_one(key, args, data.get("key_version"), item)
                   for item in items]
        return _answer(results, items, batch, {"key_version": 0})

    def _sign_one(self, key, args, requested, item):
        """(result, None) or (None, VaultError) for one input."""
        try:
            message = _item_input(item, "unable to decode input: %s")
            args.check_ed25519(key)
        except ValueError as err:
            return None, fw.user_error(str(err))
        try:
            version, number = self._signing_version(key, requested)
            digest = tc.digest_input(key.type, message, args.options,
                                     args.prehashed)
            sig = tc.sign(key.type, version.material, digest, args.options)
        except (tc.UserError, tc.InternalError, ValueError) as err:
            return None, fw.internal_error(str(err))
        text = "vault:v%d:%s" % (number, tc.encode_signature(
            sig, args.options.marshaling))
        return {"signature": text, "key_version": number}, None

    def _signing_version(self, key, number):
        with self.backend.lock:
            if number < 0:
                raise tc.UserError("requested version for signing is negative")
            number = number or key.latest
            if number > key.latest:
                raise tc.UserError("requested version for signing is higher "
                                   "than the latest key version")
            if key.min_encryption and number < key.min_encryption:
                raise tc.UserError("requested version for signing is less "
                                   "than the minimum encryption key version")
            if number not in key.versions:
                raise tc.UserError("no such key version")
            return key.versions[number], number

    def verify(self, req, data):
        items, batch = _verify_items(data)
        args = SignArgs(data)
        key = self.backend.key(data.get("name"))
        if key is None:
            raise fw.user_error("signature verification key not found")
        args.check_key(key)
        results = [self._verify_one(key, args, item) for item in items]
        return _answer(results, items, batch, {"valid": False})

    def _verify_one(self, key, args, item):
        try:
            message = _item_input(item, "failed to parse input: %s")
            if "signature" not in item:
                raise ValueError("missing signature")
            args.check_ed25519(key)
        except ValueError as err:
            return None, fw.user_error("failed to parse item: %s" % err)
        try:
            version, sig = self._parse_signature(
                key, str(item["signature"]), args.options.marshaling)
            digest = tc.digest_input(key.type, message, args.options,
                                     args.prehashed)
            valid = tc.verify(key.type, version.public, digest, sig,
                              args.options)
        except tc.UserError as err:
            return None, fw.user_error(str(err))
        except (tc.InternalError, ValueError) as err:
            return None, fw.internal_error(str(err))
        return {"valid": valid}, None

    def _parse_signature(self, key, text, marshaling):
        """The key version and raw bytes of a "vault:vN:..." signature."""
        if not text.startswith("vault:v"):
            raise tc.UserError("invalid signature: no prefix")
        number, sep, encoded = text[len("vault:v"):].partition(":")
        if not sep:
            raise tc.UserError("invalid signature: wrong number of fields")
        if not re.fullmatch(r"[+-]?\d+", number):
            raise tc.UserError(
                "invalid signature: version number could not be decoded")
        with self.backend.lock:
            number = int(number)
            if number > key.latest:
                raise tc.UserError("invalid signature: version is too new")
            if key.min_decryption and number < key.min_decryption:
                raise tc.UserError("ciphertext or signature version is "
                                   "disallowed by policy (too old)")
            version = key.versions.get(number)
        try:
            sig = tc.decode_signature(encoded, marshaling)
        except ValueError:
            raise tc.UserError("invalid base64 signature value")
        if version is None:
            raise tc.UserError("no such key version")
        return version, sig


def _sign_items(data):
    """The batch items, or the single input as one item."""
    if data.present("batch_input"):
        items = _batch_items(data.get("batch_input"))
        return items, True
    return [{"input": data.get("input"), "context": data.get("context")}], \
        False


def _verify_items(data):
    if data.present("batch_input"):
        items = _batch_items(data.get("batch_input"))
        _check_verify_batch(items)
        return items, True
    has_sig, has_mac = data.present("signature"), data.present("hmac") or (
        data.present("cmac"))
    if has_sig and has_mac:
        raise fw.user_error("provide one of 'signature', 'hmac' or 'cmac'")
    if not has_sig and not has_mac:
        raise fw.user_error("missing one of 'signature', 'hmac' or 'cmac' "
                            "arguments to verify")
    if has_mac:
        raise fw.user_error("vaultsim does not implement HMAC or CMAC "
                            "verification")
    item = {"input": data.get("input"), "context": data.get("context"),
            "signature": data.get("signature")}
    return [item], False


def _batch_items(raw):
    if not raw:
        raise fw.user_error("missing batch input to process")
    if not all(isinstance(item, dict) for item in raw):
        raise fw.internal_error("failed to parse batch input: items must "
                                "be objects")
    return raw


def _check_verify_batch(items):
    with_sig = [i for i in items if "signature" in i]
    with_mac = [i for i in items if "hmac" in i or "cmac" in i]
    if with_sig and with_mac:
        raise fw.user_error("elements of batch_input must all provide "
                            "either 'signature', 'hmac' or 'cmac'")
    if with_mac:
        raise fw.user_error("vaultsim does not implement HMAC or CMAC "
                            "verification")
    if not with_sig:
        raise fw.user_error("no batch_input elements have 'signature', "
                            "'hmac' or 'cmac'")
    if len(with_sig) != len(items):
        raise fw.user_error("some elements of batch_input are missing "
                            "'signature'")


def _item_input(item, decode_error):
    if "input" not in item or item["input"] is None:
        raise ValueError("missing input")
    try:
        message = tc.decode_std(str(item["input"]))
    except ValueError as err:
        raise ValueError(decode_error % err)
    context = item.get("context")
    if context:
        try:
            tc.decode_std(str(context))
        except ValueError:
            raise ValueError("failed to base64-decode context")
    return message


def _answer(results, items, batch, failed):
    """The sign or verify answer from (result, error) pairs: batch_results,
    or the one result, or the one error raised as Vault would answer it."""
    if batch:
        return Response(data={"batch_results": [
            _batch_result(result, error, item, failed)
            for (result, error), item in zip(results, items)]})
    result, error = results[0]
    if error is not None:
        raise error
    return Response(data=result)


def _batch_result(result, error, item, failed):
    """One batch_results entry, in the field order of Vault's structs."""
    entry = dict(result if result is not None else failed)
    if error is not None:
        entry["error"] = error.messages[0] if error.messages else ""
    reference = item.get("reference")
    entry["reference"] = "" if reference is None else str(reference)
    return entry
