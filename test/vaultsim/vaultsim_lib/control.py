"""State behind the /_sim/ test-control interface: counters of accepted
connections and of /v1/ requests per path, and the fault mode that makes
/v1/ stall, answer garbage, act sealed or give the answers that clients
must retry or follow (429, 412, 503 without leader, 307 from a standby),
for good or for a given number of requests."""

import threading

MODES = ("none", "stall", "garbage", "sealed", "ratelimit", "precondition",
         "noleader", "standby")


class SimControl:
    def __init__(self):
        self.lock = threading.Lock()
        self.mode = "none"
        self.remaining = None
        # Set when the server stops, so that stalled requests let go.
        self.stopping = threading.Event()
        self.connections = 0
        self.requests = {}
        self.total = 0

    def reset(self):
        with self.lock:
            self.connections = 0
            self.requests = {}
            self.total = 0

    def count_connection(self):
        with self.lock:
            self.connections += 1

    def count_request(self, path):
        with self.lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            self.total += 1

    def stats(self):
        with self.lock:
            return {"connections": self.connections,
                    "requests": dict(self.requests),
                    "total_requests": self.total}

    def set_mode(self, mode, count=None):
        """count limits the fault to that many /v1/ requests."""
        if mode not in MODES:
            raise ValueError("mode must be one of %s" % ", ".join(MODES))
        if count is not None and (isinstance(count, bool) or
                                  not isinstance(count, int) or count < 1):
            raise ValueError("count must be a positive integer")
        with self.lock:
            self.mode = mode
            self.remaining = count

    def take_mode(self):
        """The mode for one /v1/ request, counting it against count."""
        with self.lock:
            mode = self.mode
            if mode != "none" and self.remaining is not None:
                self.remaining -= 1
                if self.remaining == 0:
                    self.mode, self.remaining = "none", None
            return mode
