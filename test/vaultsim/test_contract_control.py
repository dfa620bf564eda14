"""Contract tests of vaultsim's transport and test-control interface: the
/_sim/ stats, reset and fault modes (stall, garbage, sealed), keep-alive
connections, response speed on keep-alive, TLS with a generated CA, client
certificates required by --tls-client-ca, IPv6, the port file and a clean
exit on SIGTERM."""

import base64
import datetime
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import hvac.exceptions as hx
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from simharness import VAULTSIM, SimProcess, SimTestCase, local_session

INPUT = base64.b64encode(b"payload").decode()


class ControlTest(SimTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root.sys.enable_secrets_engine(backend_type="transit",
                                           path="transit")
        cls.root.secrets.transit.create_key(name="k", key_type="ecdsa-p256")

    def tearDown(self):
        self.assertEqual(self.sim.control("POST", "fault", {"mode": "none"})
                         .status_code, 200)
        super().tearDown()

    def stats(self):
        resp = self.sim.control("GET", "stats")
        self.assertEqual(resp.status_code, 200)
        return resp.json()

    def test_stats_count_requests_per_path(self):
        self.assertEqual(self.sim.control("POST", "reset").status_code, 200)
        client = self.sim.client()
        for _ in range(3):
            client.secrets.transit.sign_data(name="k", hash_input=INPUT)
        client.secrets.transit.read_key(name="k")
        stats = self.stats()
        self.assertEqual(stats["requests"], {"transit/sign/k": 3,
                                             "transit/keys/k": 1})
        self.assertEqual(stats["total_requests"], 4)
        self.assertEqual(set(stats), {"connections", "requests",
                                      "total_requests"})

    def test_keep_alive_connection_is_counted_once(self):
        self.sim.control("POST", "reset")
        with local_session() as session:
            for _ in range(10):
                resp = session.get(self.sim.url + "/v1/sys/health")
                self.assertEqual(resp.status_code, 200)
            stats = session.get(self.sim.url + "/_sim/stats").json()
        self.assertEqual(stats["connections"], 1)
        self.assertEqual(stats["requests"], {"sys/health": 10})

    def test_keep_alive_answers_are_fast(self):
        # Guards against the ~44 ms Nagle/delayed-ACK stall per request:
        # 50 requests would take over 2 s; normally they take ~50 ms.
        client = self.sim.client()
        client.secrets.transit.sign_data(name="k", hash_input=INPUT)
        started = time.monotonic()
        for _ in range(50):
            client.secrets.transit.sign_data(name="k", hash_input=INPUT)
        elapsed = time.monotonic() - started
        print("\n50 keep-alive sign requests: %.1f ms" % (elapsed * 1000))
        self.assertLess(elapsed, 1.0)

    def test_stall_holds_the_request_until_the_client_gives_up(self):
        self.sim.control("POST", "fault", {"mode": "stall"})
        client = self.sim.client(timeout=0.5)
        with self.assertRaises(requests.exceptions.ReadTimeout):
            client.secrets.transit.read_key(name="k")
        # Other connections, and the control interface, keep working.
        self.assertGreaterEqual(self.stats()["requests"]["transit/keys/k"], 1)
        self.sim.control("POST", "fault", {"mode": "none"})
        self.assertEqual(self.sim.client().secrets.transit.read_key(
            name="k")["data"]["name"], "k")

    def test_garbage_is_200_without_json(self):
        self.sim.control("POST", "fault", {"mode": "garbage"})
        resp = self.sim.raw("GET", "transit/keys/k")
        self.assertEqual(resp.status_code, 200)
        with self.assertRaises(ValueError):
            json.loads(resp.text)

    def test_sealed_answers_503(self):
        self.sim.control("POST", "fault", {"mode": "sealed"})
        resp = self.sim.raw("POST", "transit/sign/k", body={"input": INPUT})
        self.assertEqual((resp.status_code, resp.json()),
                         (503, {"errors": ["Vault is sealed"]}))
        with self.assertRaises(hx.VaultDown):
            self.sim.client().secrets.transit.sign_data(name="k",
                                                        hash_input=INPUT)
        health = self.sim.raw("GET", "sys/health")
        self.assertEqual(health.status_code, 503)
        self.assertIs(health.json()["sealed"], True)

    def test_retryable_answers_for_a_number_of_requests(self):
        expected = {
            "ratelimit": (429, 'request path "transit/sign/k": rate limit '
                               'quota exceeded'),
            "precondition": (412, "required index state not present"),
            "noleader": (503, "no active Vault instance found"),
            "sealed": (503, "Vault is sealed"),
        }
        for mode, (status, message) in expected.items():
            self.sim.control("POST", "fault", {"mode": mode, "count": 2})
            for _ in range(2):
                resp = self.sim.raw("POST", "transit/sign/k",
                                    body={"input": INPUT})
                self.assertEqual((resp.status_code, resp.json()),
                                 (status, {"errors": [message]}), mode)
            if mode == "ratelimit":
                self.assertEqual(resp.headers["Retry-After"], "1")
            # The count is used up: the next request is answered normally.
            self.assertEqual(self.sim.raw("POST", "transit/sign/k", body={
                "input": INPUT}).status_code, 200, mode)

    def test_standby_redirects_to_the_active_node(self):
        self.sim.control("POST", "fault", {"mode": "standby", "count": 1})
        url = self.sim.url + "/v1/transit/sign/k?note=1"
        headers = {"X-Vault-Token": self.sim.root_token}
        with local_session() as session:
            moved = session.post(url, json={"input": INPUT}, headers=headers,
                                 allow_redirects=False)
            self.assertEqual(moved.status_code, 307)
            self.assertEqual(moved.headers["Location"], url)
            self.assertEqual(moved.content, b"")
            followed = session.post(moved.headers["Location"],
                                    json={"input": INPUT}, headers=headers)
        self.assertEqual(followed.status_code, 200)
        self.sim.control("POST", "fault", {"mode": "standby"})
        health = self.sim.raw("GET", "sys/health")
        self.assertEqual((health.status_code, health.json()["standby"]),
                         (429, True))

    def test_unknown_fault_mode_is_refused(self):
        resp = self.sim.control("POST", "fault", {"mode": "explode"})
        self.assertEqual(resp.status_code, 400)
        resp = self.sim.control("POST", "fault", {"mode": "sealed",
                                                  "count": 0})
        self.assertEqual(resp.status_code, 400)
        self.assertEqual(self.sim.control("GET", "nothing").status_code, 404)

    def test_concurrent_clients(self):
        self.sim.control("POST", "reset")
        failures = []

        def worker():
            client = self.sim.client()
            try:
                for _ in range(20):
                    client.secrets.transit.sign_data(name="k",
                                                     hash_input=INPUT)
            except Exception as err:  # reported below, in the test thread
                failures.append(err)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(failures, [])
        self.assertEqual(self.stats()["requests"]["transit/sign/k"], 160)


class LifecycleTest(unittest.TestCase):
    def test_port_file_and_clean_exit_with_a_stalled_client(self):
        sim = SimProcess().start()
        try:
            with open(sim.port_file) as f:
                self.assertRegex(f.read(), r"^\d+\n$")
            # Written by rename: no temporary file is left behind.
            self.assertEqual(sorted(os.listdir(sim.dir)),
                             ["port", "stderr.log"])
            sim.control("POST", "fault", {"mode": "stall"})
            stalled = socket.create_connection(("127.0.0.1", sim.port))
            stalled.sendall(b"GET /v1/sys/health HTTP/1.1\r\n"
                            b"Host: x\r\n\r\n")
            self.assertEqual(_wait_for_request(sim), True)
            self.assertEqual(sim.stop(), 0)
            stalled.close()
        finally:
            sim.cleanup()
        self.assertNotIn(sim.root_token, sim.log())

    def test_ipv6_loopback(self):
        if not _ipv6_loopback_available():
            self.skipTest("no IPv6 loopback on this machine")
        sim = SimProcess(listen="[::1]:0", host="::1").start()
        try:
            client = sim.client()
            self.assertFalse(client.sys.read_health_status(
                method="GET")["sealed"])
            client.adapter.close()
            self.assertEqual(sim.stop(), 0)
        finally:
            sim.cleanup()


def _wait_for_request(sim):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if sim.control("GET", "stats").json()["requests"].get("sys/health"):
            return True
        time.sleep(0.01)
    return False


def _ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def make_ca(common_name):
    """A self-signed CA: (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _issue(common_name, key.public_key(), None, key,
                  [(x509.BasicConstraints(ca=True, path_length=None), True)])
    return cert, key


def _issue(common_name, public_key, ca, ca_key, extensions):
    """A certificate for common_name signed by ca (self-signed when None),
    valid from five minutes ago for a day."""
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(ca.subject if ca else name)
               .public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1)))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(ca_key, hashes.SHA256())


def write_leaf(directory, name, common_name, ca, ca_key, extensions):
    """A new key and a certificate for it signed by ca, written to
    NAME.pem and NAME.key; returns their paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _issue(common_name, key.public_key(), ca, ca_key, extensions)
    paths = (os.path.join(directory, name + ".pem"),
             os.path.join(directory, name + ".key"))
    _write(paths[0], cert.public_bytes(serialization.Encoding.PEM))
    _write(paths[1], key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return paths


def write_ca(directory, name, common_name):
    """A new CA whose certificate goes to NAME.pem: (certificate, key)."""
    ca, ca_key = make_ca(common_name)
    _write(os.path.join(directory, name + ".pem"),
           ca.public_bytes(serialization.Encoding.PEM))
    return ca, ca_key


def make_ca_and_server_cert(directory):
    """A CA and a server certificate for 127.0.0.1 and localhost."""
    ca, ca_key = write_ca(directory, "ca", "vaultsim test CA")
    write_leaf(directory, "server", "localhost", ca, ca_key, [
        (x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)])
    paths = {name: os.path.join(directory, name)
             for name in ("ca.pem", "server.pem", "server.key")}
    return paths


def make_client_cert(directory, name, ca, ca_key):
    """A TLS client certificate signed by ca: (NAME.pem, NAME.key)."""
    return write_leaf(directory, name, "vaultsim test client", ca, ca_key, [
        (x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]),
         False)])


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def mount_and_sign(client, name, key_type):
    """Mounts transit, creates the key and returns its signature of
    INPUT."""
    client.sys.enable_secrets_engine(backend_type="transit", path="transit")
    client.secrets.transit.create_key(name=name, key_type=key_type)
    signed = client.secrets.transit.sign_data(name=name, hash_input=INPUT)
    return signed["data"]["signature"]


class TLSServerCase(unittest.TestCase):
    """One TLS server per class, with a CA and a server certificate made
    for it; sim_options adds options of SimProcess."""

    @classmethod
    def sim_options(cls, directory):
        return {}

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="vaultsim-tls-")
        cls.paths = make_ca_and_server_cert(cls.dir.name)
        cls.sim = SimProcess(tls=(cls.paths["server.pem"],
                                  cls.paths["server.key"],
                                  cls.paths["ca.pem"]),
                             **cls.sim_options(cls.dir.name)).start()

    @classmethod
    def tearDownClass(cls):
        cls.sim.close_clients()
        status = cls.sim.stop()
        cls.sim.cleanup()
        cls.dir.cleanup()
        if status != 0:
            raise AssertionError("vaultsim exit status %s" % status)


class TLSTest(TLSServerCase):
    def test_hvac_over_tls_with_the_ca_file(self):
        self.assertTrue(self.sim.url.startswith("https://"))
        self.assertTrue(mount_and_sign(self.sim.client(), "tls", "ed25519")
                        .startswith("vault:v1:"))
        # The control interface is served over TLS too.
        stats = self.sim.control("GET", "stats").json()
        self.assertGreaterEqual(stats["requests"]["transit/sign/tls"], 1)

    def test_unknown_ca_is_rejected_by_the_client(self):
        with local_session(True) as session:
            with self.assertRaises(requests.exceptions.SSLError):
                session.get(self.sim.url + "/v1/sys/health")

    def test_plain_http_gets_no_answer(self):
        with local_session() as session:
            with self.assertRaises(requests.exceptions.ConnectionError):
                session.get("http://127.0.0.1:%d/v1/sys/health"
                            % self.sim.port, timeout=5)


class MutualTLSTest(TLSServerCase):
    """--tls-client-ca: as Vault's listener with
    tls_require_and_verify_client_cert, a handshake without a certificate
    from that CA fails, and nothing reaches the API."""

    @classmethod
    def sim_options(cls, directory):
        client_ca, client_ca_key = write_ca(directory, "client-ca",
                                            "client CA")
        cls.client = make_client_cert(directory, "client", client_ca,
                                      client_ca_key)
        other_ca, other_ca_key = make_ca("a CA vaultsim does not know")
        cls.stranger = make_client_cert(directory, "stranger", other_ca,
                                        other_ca_key)
        return {"client_ca": os.path.join(directory, "client-ca.pem"),
                "client_cert": cls.client}

    def get_health(self, cert=None):
        """GET sys/health over a fresh connection presenting cert."""
        with local_session(self.paths["ca.pem"], cert) as session:
            return session.get(self.sim.url + "/v1/sys/health", timeout=10)

    def api_requests(self):
        resp = self.sim.control("GET", "stats")
        self.assertEqual(resp.status_code, 200)
        return resp.json()["total_requests"]

    def test_hvac_with_a_client_certificate(self):
        self.assertTrue(mount_and_sign(self.sim.client(), "mtls",
                                       "ecdsa-p256").startswith("vault:v1:"))
        self.assertEqual(self.get_health(self.client).status_code, 200)

    def test_no_client_certificate_fails_with_an_alert(self):
        before = self.api_requests()
        # TLS 1.3: the client learns of it from the alert, after its
        # handshake ended, every time (no reset overtakes the alert).
        for _ in range(5):
            with self.assertRaisesRegex(requests.exceptions.SSLError,
                                        "(?i)certificate required"):
                self.get_health()
        self.assertEqual(self.api_requests(), before)

    def test_no_client_certificate_fails_the_tls12_handshake(self):
        context = ssl.create_default_context(cafile=self.paths["ca.pem"])
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", self.sim.port)) as raw:
            with self.assertRaises(ssl.SSLError):
                context.wrap_socket(raw, server_hostname="127.0.0.1")

    def test_certificate_from_another_ca_is_refused(self):
        before = self.api_requests()
        with self.assertRaises(requests.exceptions.SSLError):
            self.get_health(self.stranger)
        self.assertEqual(self.api_requests(), before)

    def test_client_ca_needs_a_server_certificate(self):
        result = subprocess.run(
            [VAULTSIM, "--listen", "127.0.0.1:0", "--root-token", "r",
             "--tls-client-ca", os.path.join(self.dir.name,
                                             "client-ca.pem")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
            text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--tls-client-ca needs --tls-cert", result.stderr)


if __name__ == "__main__":
    unittest.main()
