"""HTTP/1.1 transport of the simulator: a threaded keep-alive server with
TCP_NODELAY and each answer sent in one write (else Nagle and delayed ACKs
add ~44 ms per request), optional TLS, the /_sim/ control endpoints and the
fault modes, and JSON encoded the way Go's encoding/json writes it."""

import email.utils
import http
import json
import select
import socket
import socketserver
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from . import fields, framework, system

MAX_BODY = 32 * 1024 * 1024
HANDSHAKE_TIMEOUT = 30
LINGER_TIMEOUT = 2
GARBAGE = b"<html><body>this is not JSON</body></html>\n"
# Fault modes answered with a fixed status and error, as Vault words them.
FAULT_ERRORS = {
    "sealed": (503, "Vault is sealed"),
    "precondition": (412, "required index state not present"),
    "noleader": (503, "no active Vault instance found"),
}


def go_json(value):
    """Compact JSON with Go's HTML escaping and trailing newline."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"),
                          ("&", "\\u0026"), ("\u2028", "\\u2028"),
                          ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return (text + "\n").encode("utf-8")


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address, family, core, control, ssl_context=None,
                 verbose=False):
        self.address_family = family
        self.core = core
        self.control = control
        self.ssl_context = ssl_context
        self.verbose = verbose
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind would do a reverse DNS lookup; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address):
        self.control.count_connection()
        super().process_request(request, client_address)

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so a
        # slow or broken client cannot hold up the accept loop.
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        tls = self._handshake(request, client_address)
        if tls is None:
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()

    def _handshake(self, request, client_address):
        """The TLS socket once the handshake is done, else None."""
        tls = None
        try:
            request.settimeout(HANDSHAKE_TIMEOUT)
            tls = self.ssl_context.wrap_socket(request, server_side=True,
                                               do_handshake_on_connect=False)
            tls.do_handshake()
            tls.settimeout(None)
            return tls
        except (OSError, ssl.SSLError) as err:
            self.log("TLS handshake with %s failed: %s"
                     % (client_address[0], err))
            if tls is not None:
                _linger(tls)
                tls.close()
            return None

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer is routine, not a failure.
        if isinstance(sys.exc_info()[1], OSError):
            self.log("connection from %s: %s" % (client_address[0],
                                                 sys.exc_info()[1]))
            return
        super().handle_error(request, client_address)

    def log(self, line):
        if self.verbose:
            sys.stderr.write("vaultsim: %s\n" % line)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def log_message(self, format, *args):
        self.server.log(format % args)

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_LIST = do_HEAD = do_GET
    do_PATCH = do_OPTIONS = do_SCAN = do_GET

    def _dispatch(self):
        started = time.monotonic()
        url = urlsplit(self.path)
        status = self._route(url)
        # The path only: a query string is not logged, and never a token.
        self.server.log("%s %s %s %s %.1fms" % (
            self.client_address[0], self.command, url.path, status,
            (time.monotonic() - started) * 1000))

    def _route(self, url):
        body = self._read_body()
        if body is None:
            return self._send(400, {"errors": ["error reading data"]})
        if url.path.startswith("/_sim/"):
            return self._control(url.path, body)
        if url.path.startswith("/v1/"):
            return self._api(url, body)
        return self._send(404, {"errors": []})

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        return self.rfile.read(length)

    def _read_chunked(self):
        chunks = []
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                return None
            if size == 0:
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline(16)
        while self.rfile.readline(1024).strip():
            pass
        return b"".join(chunks)

    def _control(self, path, body):
        control = self.server.control
        if path == "/_sim/stats" and self.command == "GET":
            return self._send(200, control.stats())
        if path == "/_sim/reset" and self.command == "POST":
            control.reset()
            return self._send(200, {"reset": True})
        if path == "/_sim/fault" and self.command == "POST":
            try:
                request = json.loads(body or b"{}")
                control.set_mode(request.get("mode"), request.get("count"))
            except (ValueError, AttributeError) as err:
                return self._send(400, {"errors": [str(err)]})
            return self._send(200, {"mode": request.get("mode")})
        return self._send(404, {"errors": []})

    def _api(self, url, body):
        rel_path = unquote(url.path[len("/v1/"):])
        control = self.server.control
        control.count_request(rel_path)
        mode = control.take_mode()
        if mode == "stall":
            return self._stall()
        if mode == "garbage":
            return self._send_bytes(200, GARBAGE)
        query = parse_qs(url.query, keep_blank_values=True)
        if rel_path == "sys/health" and self.command in ("GET", "HEAD"):
            return self._send(*system.health(mode, query))
        if rel_path == "sys/seal-status" and self.command == "GET":
            return self._send(*system.seal_status(mode == "sealed"))
        if mode != "none":
            return self._fault(mode, rel_path, url)
        req = self._build_request(rel_path, query, body)
        if isinstance(req, tuple):
            return self._send(*req)
        return self._send(*self.server.core.handle(req))

    def _fault(self, mode, rel_path, url):
        if mode == "ratelimit":
            message = ('request path "%s": rate limit quota exceeded'
                       % rel_path)
            return self._send(429, {"errors": [message]},
                              ["Retry-After: 1"])
        if mode == "standby":
            # A standby points at the active node: here, this same server.
            scheme = "https" if self.server.ssl_context else "http"
            location = "%s://%s%s" % (scheme, self.headers.get("Host", ""),
                                      url.path)
            if url.query:
                location += "?" + url.query
            return self._send_bytes(307, b"", ["Location: " + location],
                                    content_type=None)
        status, message = FAULT_ERRORS[mode]
        return self._send(status, {"errors": [message]})

    def _build_request(self, rel_path, query, body):
        """A framework.Request, or (status, body) for a malformed one."""
        method = self.command
        data = {k: v[0] if len(v) == 1 else v for k, v in query.items()}
        if method == "GET":
            op = "read"
            try:
                if fields.to_bool(data.pop("list", "false")):
                    op = "list"
            except fields.FieldError:
                return 400, {"errors": []}
        elif method in ("POST", "PUT", "PATCH"):
            op = "update" if method != "PATCH" else "patch"
            data = _json_object(body)
            if isinstance(data, str):
                return 400, {"errors": [data]}
        elif method in ("DELETE", "LIST", "HEAD"):
            op = {"DELETE": "delete", "LIST": "list", "HEAD": "header"}[
                method]
        else:
            return 405, {"errors": []}
        if op == "list" and not rel_path.endswith("/"):
            rel_path += "/"
        return framework.Request(op, rel_path, data, self._token())

    def _token(self):
        token = self.headers.get("X-Vault-Token")
        if token:
            return token
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return None

    def _stall(self):
        """Hold the request unanswered until the client goes away or the
        server stops, without blocking any other connection."""
        self.close_connection = True
        sock = self.request
        while not self.server.control.stopping.is_set():
            try:
                readable = select.select([sock], [], [], 0.2)[0]
                if readable:
                    sock.settimeout(0.2)
                    if not sock.recv(4096):
                        break
            except socket.timeout:
                continue
            except (OSError, ValueError):
                break
        return "stalled"

    def _send(self, status, value, headers=()):
        body = b"" if value is None else go_json(value)
        return self._send_bytes(status, body, headers)

    def _send_bytes(self, status, body, headers=(),
                    content_type="application/json"):
        lines = ["HTTP/1.1 %d %s" % (status, _reason(status)),
                 "Cache-Control: no-store",
                 "Date: " + email.utils.formatdate(usegmt=True)]
        if content_type:
            lines.append("Content-Type: " + content_type)
        lines.extend(headers)
        if status != 204:
            lines.append("Content-Length: %d" % len(body))
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if self.command == "HEAD":
            body = b""
        # One write per answer; see the module comment.
        self.wfile.write(head + body)
        return status


def _linger(sock):
    """Half-closes, then reads until the client hangs up. In TLS 1.3 a
    client sends its request before it learns that its certificate was
    refused; closing with that request unread would send a TCP reset,
    which can reach the client before the TLS alert that says why."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(LINGER_TIMEOUT)
        while sock.recv(4096):
            pass
    except OSError:
        pass


def _reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _json_object(body):
    """The request body as a dict, or Vault's error text."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except ValueError as err:
        return "failed to parse JSON input: %s" % err
    if not isinstance(value, dict):
        return ("failed to parse JSON input: json: cannot unmarshal %s into "
                "Go value of type map[string]interface {}"
                % type(value).__name__)
    return value
