"""A loopback HTTP file server with per-path fault injection and request counters.

Tests start it in-process (127.0.0.1, port 0); child processes just use its URL,
while the counters stay in the test process::

    with FileServer(tmp_path / "srv") as srv:
        srv.put("a.bin", b"...")
        srv.fault("a.bin", Drop(after=100))           # first GET dies after 100 bytes
        srv.fault("b.bin", Status(500, times=2))      # two 500s, then the file
        fetch(srv.url_for("a.bin"))
        assert srv.gets("a.bin") == 2 and srv.range_gets("a.bin") == 1

Faults for a path are consumed in the order added; each fires ``times`` times
(``None`` = forever), after which the file is served normally.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass
class Fault:
    """Base of the injectable faults; ``times=None`` means every request."""

    times: int | None = 1


@dataclass
class Drop(Fault):
    """Send headers for the whole body, then close the connection after ``after`` bytes."""

    after: int = 0


@dataclass
class Status(Fault):
    """Answer with an HTTP error status (500, 429, 404...) instead of the file."""

    code: int = 500


@dataclass
class WrongBytes(Fault):
    """Serve the right length of wrong content with status 200 (a poisoned mirror)."""


@dataclass
class Html(Fault):
    """Serve an HTML page with status 200 (a login wall or an error page)."""


@dataclass
class Slow(Fault):
    """Stall ``delay`` seconds: before the headers, or after ``after`` body bytes when set.

    Used for read-timeout tests and to kill a client mid-download; the stall
    ends early when the server stops.
    """

    delay: float = 5.0
    after: int | None = None


@dataclass
class Endless(Fault):
    """Serve the file, then zeros until the client hangs up (a runaway mirror).

    ``announce=True`` sends a ``Content-Length`` of 1 TB first; otherwise the body is
    close-delimited (no length). At most ``cap`` bytes are sent in all.
    """

    announce: bool = False
    cap: int = 1 << 30


@dataclass
class Trickle(Fault):
    """Send the body one byte every ``interval`` seconds (a server that never quite stalls)."""

    interval: float = 0.5


HTML_PAGE = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>quota exceeded</body></html>"


class FileServer:
    """Serve files under ``root`` on 127.0.0.1 with optional Range support and faults."""

    def __init__(self, root: str | Path, *, range_support: bool = True) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.range_support = range_support
        self.log: list[tuple[str, str, str | None, int]] = []  # (method, path, Range, status)
        self.faults_fired = 0  # how many requests got a fault instead of the plain file
        self.bytes_sent = 0  # body bytes written for faulty answers (Endless, Trickle)
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> FileServer:
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url_for(self, path: str) -> str:
        return f"{self.url}/{path.lstrip('/')}"

    # -- content and faults -----------------------------------------------------------
    def put(self, path: str, data: bytes) -> Path:
        """Write ``data`` at ``path`` under the served folder; return the file."""
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    def fault(self, path: str, *faults: Fault) -> None:
        """Queue ``faults`` for ``path`` (after any already queued)."""
        with self._lock:
            self._faults.setdefault(path.lstrip("/"), []).extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(path, [])
            while queue:
                fault = queue[0]
                if fault.times is not None and fault.times <= 0:
                    queue.pop(0)
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        queue.pop(0)
                self.faults_fired += 1
                return fault
            return None

    # -- counters ---------------------------------------------------------------------
    def _record(self, method: str, path: str, rng: str | None, status: int) -> None:
        with self._lock:
            self.log.append((method, path, rng, status))

    def counts(self, method: str = "GET") -> Counter:
        """Requests per path (every attempt, whatever the answer)."""
        with self._lock:
            return Counter(p for m, p, _, _ in self.log if m == method)

    def gets(self, path: str) -> int:
        """GET requests seen for ``path``."""
        return self.counts()[path.lstrip("/")]

    def range_gets(self, path: str) -> int:
        """GET requests for ``path`` that carried a Range header."""
        with self._lock:
            return sum(1 for m, p, r, _ in self.log if m == "GET" and p == path.lstrip("/") and r)

    def reset_counts(self) -> None:
        with self._lock:
            self.log.clear()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients killed mid-body (on purpose) must not spam the test output


def _handler_for(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            path = unquote(urlsplit(self.path).path).lstrip("/")
            rng = self.headers.get("Range")
            fault = server._next_fault(path)
            if isinstance(fault, Slow) and fault.after is None and server._stopping.wait(fault.delay):
                return
            if isinstance(fault, Status):
                return self._simple(self.command, path, rng, fault.code, b"error\n", "text/plain")
            if isinstance(fault, Html):
                return self._simple(self.command, path, rng, 200, HTML_PAGE, "text/html")
            if isinstance(fault, Endless):
                return self._endless(path, rng, fault)
            file = (server.root / path).resolve()
            if server.root.resolve() not in file.parents or not file.is_file():
                return self._simple(self.command, path, rng, 404, b"not found\n", "text/plain")
            data = file.read_bytes()
            if isinstance(fault, WrongBytes):
                data = bytes((b ^ 0xFF) for b in data)
            status, start, end = 200, 0, len(data)
            m = _RANGE.match(rng or "")
            if server.range_support and m:
                start = int(m.group(1))
                end = min(int(m.group(2)) + 1 if m.group(2) else len(data), len(data))
                if start >= len(data):
                    return self._simple(self.command, path, rng, 416, b"", "text/plain",
                                        {"Content-Range": f"bytes */{len(data)}"})
                status = 206
            server._record(self.command, path, rng, status)
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(end - start))
            if server.range_support:
                self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
            self.end_headers()
            if not body:
                return
            payload = data[start:end]
            if isinstance(fault, Drop):
                self.wfile.write(payload[: fault.after])
                self.wfile.flush()
                self.close_connection = True
                return
            if isinstance(fault, Trickle):
                for i in range(len(payload)):
                    if server._stopping.wait(fault.interval):
                        break
                    self.wfile.write(payload[i:i + 1])
                    self.wfile.flush()
                    server.bytes_sent += 1
                self.close_connection = True
                return
            if isinstance(fault, Slow) and fault.after is not None:
                self.wfile.write(payload[: fault.after])
                self.wfile.flush()
                if server._stopping.wait(fault.delay):
                    self.close_connection = True
                    return
                payload = payload[fault.after:]
            self.wfile.write(payload)

        def _endless(self, path: str, rng: str | None, fault: Endless) -> None:
            server._record(self.command, path, rng, 200)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if fault.announce:
                self.send_header("Content-Length", str(10**12))
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            if self.command == "HEAD":
                return
            chunk = (server.root / path).read_bytes() if (server.root / path).is_file() else b""
            sent = 0
            try:
                while sent < fault.cap and not server._stopping.is_set():
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    server.bytes_sent += len(chunk)
                    chunk = bytes(1 << 16)
            except OSError:
                pass  # the client hung up: what a careful client does

        def _simple(self, method: str, path: str, rng: str | None, code: int, payload: bytes,
                    ctype: str, headers: dict[str, str] | None = None) -> None:
            server._record(method, path, rng, code)
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(payload)

    return Handler
