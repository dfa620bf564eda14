"""The Transit secrets engine at one mount: named keys with versions
(create, read, list, rotate, config, trim, delete), with Vault's field
names, defaults, checks and error texts. Signing is in transit_sign."""

import threading
import time

from . import framework as fw
from . import transit_crypto as tc
from .framework import NAME, Field, Response, Route
from .timefmt import rfc3339
from .transit_sign import SIGN_FIELDS, VERIFY_FIELDS, Signing

_KEY_FIELDS = {
    "name": Field("str"), "type": Field("str", default="aes256-gcm96"),
    "derived": Field("bool"), "convergent_encryption": Field("bool"),
    "exportable": Field("bool"), "allow_plaintext_backup": Field("bool"),
    "context": Field("str"), "auto_rotate_period": Field("duration"),
    "key_size": Field("int"), "managed_key_name": Field("str"),
    "managed_key_id": Field("str"),
}
_CONFIG_FIELDS = {
    "name": Field("str"), "min_decryption_version": Field("int"),
    "min_encryption_version": Field("int"), "deletion_allowed": Field("bool"),
    "exportable": Field("bool"), "allow_plaintext_backup": Field("bool"),
    "auto_rotate_period": Field("duration"),
}


class KeyVersion:
    def __init__(self, key_type, material):
        self.material = material
        self.created = time.time()
        self.public = None
        self.public_text = ""
        if key_type not in ("aes128-gcm96", "aes256-gcm96",
                            "chacha20-poly1305", "xchacha20-poly1305"):
            self.public = material.public_key()
            self.public_text = tc.public_key_text(key_type, material)


class TransitKey:
    def __init__(self, name, key_type, data):
        self.name = name
        self.type = key_type
        self.versions = {}
        self.latest = 0
        self.min_decryption = 1
        self.min_encryption = 0
        self.min_available = 0
        self.deletion_allowed = False
        self.exportable = data.get("exportable")
        self.allow_plaintext_backup = data.get("allow_plaintext_backup")
        self.auto_rotate_period = data.get("auto_rotate_period")

    def add_version(self, version):
        self.latest += 1
        self.versions[self.latest] = version

    def describe(self):
        """The data of a key read, with Vault's field names."""
        data = {
            "allow_plaintext_backup": self.allow_plaintext_backup,
            "auto_rotate_period": self.auto_rotate_period,
            "deletion_allowed": self.deletion_allowed,
            "derived": False,
            "exportable": self.exportable,
            "imported_key": False,
            "keys": {str(n): self._describe_version(v)
                     for n, v in sorted(self.versions.items())},
            "latest_version": self.latest,
            "min_available_version": self.min_available,
            "min_decryption_version": self.min_decryption,
            "min_encryption_version": self.min_encryption,
            "name": self.name,
            "type": self.type,
        }
        data.update(tc.supports(self.type))
        return data

    def _describe_version(self, version):
        if version.public is None:
            return int(version.created)
        return {
            "certificate_chain": "",
            "creation_time": rfc3339(version.created),
            "name": tc.public_key_name(self.type),
            "public_key": version.public_text,
        }


class TransitBackend:
    def __init__(self):
        self.lock = threading.Lock()
        self.keys = {}
        signing = Signing(self)
        key = r"keys/(?P<name>%s)" % NAME
        algo = r"(?:/(?P<urlalgorithm>.+))?"
        self.routes = [
            Route(r"keys/?", {"list": self.list_keys}),
            Route(key, {"update": self.create, "read": self.read,
                        "delete": self.delete}, _KEY_FIELDS),
            Route(key + "/config", {"update": self.config}, _CONFIG_FIELDS),
            Route(key + "/rotate", {"update": self.rotate}, {
                "name": Field("str"), "managed_key_name": Field("str"),
                "managed_key_id": Field("str")}),
            Route(key + "/trim", {"update": self.trim}, {
                "name": Field("str"),
                "min_available_version": Field("int")}),
            Route(r"sign/(?P<name>%s)%s" % (NAME, algo),
                  {"update": signing.sign}, SIGN_FIELDS),
            Route(r"verify/(?P<name>%s)%s" % (NAME, algo),
                  {"update": signing.verify}, VERIFY_FIELDS),
        ]

    def handle(self, req, rel_path):
        return fw.dispatch(self.routes, req, rel_path)

    def key(self, name):
        with self.lock:
            return self.keys.get(name)

    def list_keys(self, req, data):
        with self.lock:
            return Response(data={"keys": sorted(self.keys)})

    def create(self, req, data):
        key_type = data.get("type")
        period = data.get("auto_rotate_period")
        if period and period < 3600:
            raise fw.user_error("auto rotate period must be 0 to disable or "
                                "at least an hour")
        if data.get("convergent_encryption") and not data.get("derived"):
            raise fw.user_error("convergent encryption requires derivation "
                                "to be enabled")
        if key_type not in tc.KEY_TYPES:
            raise fw.user_error("unknown key type %s" % key_type)
        if data.get("key_size"):
            raise fw.user_error(
                "key_size is not valid for algorithm %s" % key_type)
        if data.get("derived"):
            raise fw.user_error("vaultsim does not implement derived keys")
        return self._create_key(data.get("name"), key_type, data)

    def _create_key(self, name, key_type, data):
        existing = self.key(name)
        if existing is None:
            # Generate outside the lock: RSA key generation takes a while.
            version = KeyVersion(key_type, tc.generate(key_type))
            with self.lock:
                existing = self.keys.get(name)
                if existing is None:
                    key = TransitKey(name, key_type, data)
                    key.add_version(version)
                    self.keys[name] = key
                    return Response(data=key.describe())
        with self.lock:
            return Response(data=existing.describe(),
                            warnings=["key %s already existed" % name])

    def read(self, req, data):
        key = self.key(data.get("name"))
        if key is None:
            return None
        with self.lock:
            return Response(data=key.describe())

    def delete(self, req, data):
        name = data.get("name")
        with self.lock:
            key = self.keys.get(name)
            if key is None:
                problem = "could not delete policy; not found"
            elif not key.deletion_allowed:
                problem = "deletion is not allowed for this policy"
            else:
                del self.keys[name]
                return None
        raise fw.user_error("error deleting policy %s: %s" % (name, problem))

    def rotate(self, req, data):
        key = self.key(data.get("name"))
        if key is None:
            raise fw.user_error("key not found")
        version = KeyVersion(key.type, tc.generate(key.type))
        with self.lock:
            key.add_version(version)
            return Response(data=key.describe())

    def config(self, req, data):
        name = data.get("name")
        key = self.key(name)
        if key is None:
            raise fw.user_error(
                "no existing key named %s could be found" % name)
        with self.lock:
            warnings = _apply_config(key, data)
            return Response(data=key.describe(), warnings=warnings)

    def trim(self, req, data):
        key = self.key(data.get("name"))
        if key is None:
            raise fw.user_error("invalid key name")
        if not data.present("min_available_version"):
            raise fw.user_error("missing min_available_version")
        with self.lock:
            _trim(key, data.get("min_available_version"))
            return Response(data=key.describe())

def _apply_config(key, data):
    """Vault's config rules; changes nothing when a check fails."""
    warnings = []
    min_dec, min_enc = key.min_decryption, key.min_encryption
    if data.present("min_decryption_version"):
        min_dec = data.get("min_decryption_version")
        if min_dec < 0:
            raise fw.user_error("min decryption version cannot be negative")
        if min_dec == 0:
            min_dec = 1
            warnings.append("since Vault 0.3, transit key numbering starts "
                            "at 1; forcing minimum to 1")
        if min_dec != key.min_decryption and min_dec > key.latest:
            raise fw.user_error(
                "cannot set min decryption version of %d, latest key "
                "version is %d" % (min_dec, key.latest))
    if data.present("min_encryption_version"):
        min_enc = data.get("min_encryption_version")
        if min_enc < 0:
            raise fw.user_error("min encryption version cannot be negative")
        if min_enc != key.min_encryption and min_enc > key.latest:
            raise fw.user_error(
                "cannot set min encryption version of %d, latest key "
                "version is %d" % (min_enc, key.latest))
    _check_versions(key, min_dec, min_enc)
    _check_rotate_period(data)
    key.min_decryption, key.min_encryption = min_dec, min_enc
    _apply_flags(key, data)
    return warnings


def _check_versions(key, min_dec, min_enc):
    if min_enc > 0 and min_enc < min_dec:
        raise fw.user_error(
            "cannot set min encryption/decryption values; min encryption "
            "version of %d must be greater than or equal to min decryption "
            "version of %d" % (min_enc, min_dec))
    if key.min_available > min_enc:
        raise fw.user_error("min encryption version should not be less "
                            "than min available version")
    if key.min_available > min_dec:
        raise fw.user_error("min decryption version should not be less "
                            "then min available version")


def _check_rotate_period(data):
    period = data.get("auto_rotate_period")
    if data.present("auto_rotate_period") and 0 < period < 3600:
        raise fw.user_error("auto rotate period must be 0 to disable or at "
                            "least an hour")


def _apply_flags(key, data):
    if data.present("deletion_allowed"):
        key.deletion_allowed = data.get("deletion_allowed")
    # exportable and allow_plaintext_backup can be set but never unset.
    key.exportable = key.exportable or data.get("exportable")
    key.allow_plaintext_backup = (key.allow_plaintext_backup
                                  or data.get("allow_plaintext_backup"))
    if data.present("auto_rotate_period"):
        key.auto_rotate_period = data.get("auto_rotate_period")


def _trim(key, wanted):
    checks = [
        (wanted < key.min_available,
         "minimum available version cannot be decremented"),
        (key.min_encryption == 0, "minimum available version cannot be set "
         "when minimum encryption version is not set"),
        (key.min_decryption == 0, "minimum available version cannot be set "
         "when minimum decryption version is not set"),
        (wanted > key.min_encryption, "minimum available version cannot be "
         "greater than minmum encryption version"),
        (wanted > key.min_decryption, "minimum available version cannot be "
         "greater than minimum decryption version"),
        (wanted < 0, "minimum available version cannot be negative"),
        (wanted == 0, "minimum available version should be positive"),
    ]
    for failed, message in checks:
        if failed:
            raise fw.user_error(message)
    key.min_available = wanted
    for number in [n for n in key.versions if n < wanted]:
        del key.versions[number]
