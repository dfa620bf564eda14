"""Shared pieces of the vaultsim contract tests: starting and stopping a
vaultsim process on a loopback port, and hvac clients and requests sessions
that talk to it only (proxy settings from the environment are ignored)."""

import inspect
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import hvac
import hvac.exceptions
import requests
from hvac.constants import transit as transit_constants

HERE = os.path.dirname(os.path.abspath(__file__))
VAULTSIM = os.environ.get("VAULTSIM") or os.path.join(HERE, "vaultsim")
START_TIMEOUT = 20
STOP_TIMEOUT = 10


class SimProcess:
    """One vaultsim server; the port comes from its port file."""

    def __init__(self, listen="127.0.0.1:0", tls=None, host="127.0.0.1",
                 client_ca=None, client_cert=None):
        """tls is (certificate, key, CA file) for --tls-cert/--tls-key;
        client_ca goes to --tls-client-ca, and client_cert, a (certificate,
        key) pair, is what this harness's own requests present."""
        self.listen = listen
        self.tls = tls
        self.client_ca = client_ca
        self.client_cert = client_cert
        self.verify = tls[2] if tls else True
        self.host = host
        self.root_token = "root-" + secrets.token_hex(8)
        self.dir = tempfile.mkdtemp(prefix="vaultsim-test-")
        self.port_file = os.path.join(self.dir, "port")
        self.log_path = os.path.join(self.dir, "stderr.log")
        self.proc = None
        self.port = None
        self.clients = []

    @property
    def url(self):
        scheme = "https" if self.tls else "http"
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s://%s:%d" % (scheme, host, self.port)

    def start(self):
        cmd = [VAULTSIM, "--listen", self.listen, "--root-token",
               self.root_token, "--port-file", self.port_file, "--verbose"]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        if self.client_ca:
            cmd += ["--tls-client-ca", self.client_ca]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                         stderr=log)
        self.port = self._wait_for_port()
        return self

    def _wait_for_port(self):
        # The port file appears, whole, once the socket listens.
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    return int(f.read())
            if self.proc.poll() is not None:
                raise RuntimeError("vaultsim exited: %s" % self.log())
            time.sleep(0.01)
        raise RuntimeError("vaultsim did not start: %s" % self.log())

    def stop(self):
        """SIGTERM, then the exit status (a clean exit is 0)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def cleanup(self):
        self.close_clients()
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def session(self):
        return local_session(self.verify, self.client_cert)

    def client(self, token=None, timeout=30):
        """An hvac client; the root token unless told otherwise."""
        client = hvac.Client(url=self.url, token=token or self.root_token,
                             verify=self.verify, cert=self.client_cert,
                             timeout=timeout, session=self.session())
        self.clients.append(client)
        return client

    def close_clients(self):
        while self.clients:
            self.clients.pop().adapter.close()

    def control(self, method, name, body=None):
        with self.session() as session:
            return session.request(method, "%s/_sim/%s" % (self.url, name),
                                   json=body, timeout=10)

    def raw(self, method, path, token=None, body=None, headers=None):
        """A request outside hvac, for checking the wire format itself.
        token None sends the root token, "" sends none."""
        token = self.root_token if token is None else token
        all_headers = {"X-Vault-Token": token} if token else {}
        all_headers.update(headers or {})
        with self.session() as session:
            return session.request(method, "%s/v1/%s" % (self.url, path),
                                   json=body, headers=all_headers,
                                   timeout=30)


def local_session(verify=True, cert=None):
    """cert: None, or the (certificate, key) files to present."""
    session = requests.Session()
    # HTTP(S)_PROXY and friends must not send test traffic anywhere else.
    session.trust_env = False
    session.verify = verify
    session.cert = cert
    return session


class SimTestCase(unittest.TestCase):
    """Starts one server per test class."""

    sim_options = {}

    @classmethod
    def setUpClass(cls):
        cls.sim = SimProcess(**cls.sim_options).start()
        cls.root = cls.sim.client()

    def tearDown(self):
        # Clients made by a test; the class's root client stays open.
        for client in self.sim.clients[1:]:
            client.adapter.close()
        del self.sim.clients[1:]

    @classmethod
    def tearDownClass(cls):
        cls.sim.close_clients()
        status = cls.sim.stop()
        log = cls.sim.log()
        cls.sim.cleanup()
        if status != 0:
            raise AssertionError("vaultsim exit status %s: %s"
                                 % (status, log))

    def assertVaultError(self, exc_type, call, *messages):
        """call() raises exc_type and each message is in its errors."""
        with self.assertRaises(exc_type) as caught:
            call()
        errors = caught.exception.errors or []
        for message in messages:
            self.assertTrue(any(message in e for e in errors),
                            "%r not in %r" % (message, errors))
        return errors


_HVAC_NAMES = {"input": "hash_input"}


def _hvac_can(method, params):
    """Whether this hvac version's method takes every parameter as is."""
    accepted = inspect.signature(method).parameters
    for key, value in params.items():
        if _HVAC_NAMES.get(key, key) not in accepted:
            return False
    algo = params.get("hash_algorithm")
    return algo is None or algo in (
        transit_constants.ALLOWED_HASH_DATA_ALGORITHMS)


def transit_call(client, op, name, mount="transit", **params):
    """sign or verify through hvac's own method when this hvac version can
    express the parameters (older ones lack salt_length, sha3, ...), else
    through the same client's adapter."""
    method = getattr(client.secrets.transit,
                     "sign_data" if op == "sign" else "verify_signed_data")
    if _hvac_can(method, params):
        args = {_HVAC_NAMES.get(k, k): v for k, v in params.items()}
        return method(name=name, mount_point=mount, **args)
    return client.adapter.post("/v1/%s/%s/%s" % (mount, op, name),
                               json=params)


VaultError = hvac.exceptions.VaultError
