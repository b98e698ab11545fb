"""HTTP downloads that resume, retry, fall over to mirrors and never leave a bad file.

Per URL: requests with connect/read timeouts and urllib3 ``Retry`` (backoff on
connection errors, 429 and 5xx); the body streams into ``<file>.part`` next to
the target, a dropped connection resumes with a ``Range`` request (a server
ignoring Range gets a full restart), an HTML page where data was expected is a
failure. The ``.part`` is verified (size + sha256 or md5) and only then
renamed to the target. Any failure moves on to the next URL.

Limits: a download never grows past the resource's expected size (a
``Content-Length`` announcing more, or a body running past it, ends that URL
at once), and a transfer slower than ``DMZOO_MIN_RATE`` over its window ends
that URL too. Resumes are unlimited while each one makes progress; a URL is
given up after ``MAX_FAILURES_WITHOUT_PROGRESS`` drops in a row without a byte.
A ``.part`` survives URL failures (the checksum decides whether it is kept), so
the next URL or the next run continues where this one stopped.

Error rule (see :class:`~dmzoo.core.errors.FetchError`): :class:`ChecksumError`
when every URL delivered wrong bytes, :class:`DownloadError` otherwise.

Settings: ``DMZOO_TIMEOUT`` (seconds, ``read`` or ``connect,read``; default
10,60), ``DMZOO_BACKOFF`` (retry backoff factor, default 0.5) and
``DMZOO_MIN_RATE`` (``bytes_per_s`` or ``bytes_per_s,window_s``; default
1024,60).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ..errors import ChecksumError, DownloadError
from ..settings import env_numbers, env_str
from .checksums import verify

if TYPE_CHECKING:
    import requests

    from ..spec import Resource

CHUNK = 1 << 16
RETRIES = 3
MAX_FAILURES_WITHOUT_PROGRESS = 3
MAX_RESTARTS = 20  # wrong byte ranges / 416 answers before a URL is given up
RETRY_STATUS = (429, 500, 502, 503, 504)


class UrlFailed(Exception):
    """One URL did not give the file; the message says why (collected for the final error)."""


class TooLarge(ChecksumError):
    """The server sent, or announced, more bytes than the resource has: wrong bytes."""


def timeouts() -> tuple[float, float]:
    """``(connect, read)`` timeouts in seconds."""
    if "," not in env_str("DMZOO_TIMEOUT"):
        return (10.0, env_numbers("DMZOO_TIMEOUT", (60.0,), example="DMZOO_TIMEOUT=30")[0])
    connect, read = env_numbers("DMZOO_TIMEOUT", (10.0, 60.0), example="DMZOO_TIMEOUT=5,30")
    return connect, read


def backoff() -> float:
    return env_numbers("DMZOO_BACKOFF", (0.5,), example="DMZOO_BACKOFF=0.5", allow_zero=True)[0]


def min_rate() -> tuple[float, float]:
    """``(bytes per second, window in seconds)`` below which a transfer is abandoned."""
    if "," not in env_str("DMZOO_MIN_RATE"):
        return (env_numbers("DMZOO_MIN_RATE", (1024.0,), example="DMZOO_MIN_RATE=1024")[0], 60.0)
    rate, window = env_numbers("DMZOO_MIN_RATE", (1024.0, 60.0), example="DMZOO_MIN_RATE=1024,60")
    return rate, window


def check_settings() -> None:
    """Validate the download settings now (before any lock or network is touched)."""
    timeouts(), backoff(), min_rate()


def new_session() -> requests.Session:
    """A session retrying connection errors, 429 and 5xx with exponential backoff."""
    # deferred: requests and urllib3 are heavy; importing storage stays cheap
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    # deferred: import cycle with dmzoo/__init__, which imports core
    from ... import __version__

    retry = Retry(total=RETRIES, connect=RETRIES, read=1, status=RETRIES, other=0,
                  backoff_factor=backoff(), backoff_max=30,
                  status_forcelist=RETRY_STATUS, allowed_methods=("GET", "HEAD"),
                  raise_on_status=False, respect_retry_after_header=True)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"User-Agent": f"dmzoo/{__version__}", "Accept-Encoding": "identity"})
    return session


def _describe(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Read timed out", "timed out", "Connection refused", "Max retries exceeded",
                   "Connection broken", "IncompleteRead", "Name or service not known"):
        if marker in text:
            return f"{type(exc).__name__} ({marker})"
    return f"{type(exc).__name__}: {text[:200]}"


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip()[:64].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml version=\"1.0\"?><html"))


def _expects_html(resource: Resource) -> bool:
    return resource.filename.lower().endswith((".html", ".htm"))


def _network_errors() -> tuple[type[BaseException], ...]:
    # deferred: requests and urllib3 are heavy; importing storage stays cheap
    import requests
    import urllib3

    return (requests.RequestException, urllib3.exceptions.HTTPError)


def _progress(resource: Resource, total: int | None, initial: int, quiet: bool) -> Any:
    # deferred: tqdm is heavy; importing storage stays cheap
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=resource.filename, disable=quiet, file=sys.stderr, leave=False)


def _content_range_start(value: str | None) -> int | None:
    # "bytes 100-999/1000"
    try:
        return int(value.split()[1].split("-")[0]) if value else None
    except (IndexError, ValueError):
        return None


def _too_large(resource: Resource, size: int, how: str) -> TooLarge:
    return TooLarge(f"the server {how} {size} bytes of {resource.filename}, expected "
                    f"{resource.size}; it serves a different (or endless) file")


class RateGuard:
    """Abandon a transfer that stays under the minimum rate for a whole window."""

    def __init__(self) -> None:
        self.rate, self.window = min_rate()
        self.start, self.received = time.monotonic(), 0

    def update(self, n: int) -> None:
        self.received += n
        elapsed = time.monotonic() - self.start
        if elapsed >= self.window:
            if self.received < self.rate * elapsed:
                raise UrlFailed(f"transfer too slow ({self.received / elapsed:.0f} B/s over "
                                f"{elapsed:.0f}s, minimum {self.rate:g} B/s; see DMZOO_MIN_RATE)")
            self.start, self.received = time.monotonic(), 0


def _download_http(session: requests.Session, url: str, part: Path, resource: Resource,
                   quiet: bool) -> None:
    """Stream ``url`` into ``part``, resuming it; raise :class:`UrlFailed` when hopeless."""
    errors = _network_errors()
    body_errors = errors + (ConnectionError,)
    restarts = stalled = 0
    limit = resource.size
    while True:
        pos = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={pos}-"} if pos else {}
        try:
            response = session.get(url, headers=headers, stream=True, timeout=timeouts())
        except errors as exc:
            raise UrlFailed(_describe(exc)) from None
        with response:
            if response.status_code == 416 and pos:
                part.unlink()  # our partial file is longer than the remote one: restart
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise UrlFailed("server keeps rejecting the byte range")
                continue
            if response.status_code >= 400:
                retried = f" (after {RETRIES} retries)" if response.status_code in RETRY_STATUS else ""
                raise UrlFailed(f"HTTP {response.status_code} {response.reason}".rstrip() + retried)
            ctype = response.headers.get("Content-Type", "")
            if "text/html" in ctype.lower() and not _expects_html(resource):
                raise UrlFailed(f"got an HTML page (status {response.status_code}, Content-Type "
                                f"{ctype}) instead of the file: a login, quota or error page?")
            if response.status_code == 206:
                if _content_range_start(response.headers.get("Content-Range")) != pos:
                    part.unlink(missing_ok=True)  # not the range we asked for: restart clean
                    restarts += 1
                    if restarts > MAX_RESTARTS:
                        raise UrlFailed("server answers with the wrong byte ranges")
                    continue
                mode = "ab"
            else:  # 200: the server ignored Range (or there was none): start over
                mode, pos = "wb", 0
            length = response.headers.get("Content-Length")
            total = pos + int(length) if length and length.isdigit() else resource.size
            if limit is not None and total is not None and total > limit:
                raise _too_large(resource, total, "announced")
            before = pos
            guard = RateGuard()
            try:
                with open(part, mode) as f, _progress(resource, total, pos, quiet) as bar:
                    while chunk := response.raw.read1(CHUNK, decode_content=False):
                        if pos == 0 and not _expects_html(resource) and _looks_like_html(chunk):
                            raise UrlFailed("got an HTML page instead of the file "
                                            "(a login, quota or error page?)")
                        if limit is not None and pos + len(chunk) > limit:
                            raise _too_large(resource, pos + len(chunk), "sent at least")
                        f.write(chunk)
                        pos += len(chunk)
                        bar.update(len(chunk))
                        guard.update(len(chunk))
                if length and length.isdigit() and pos - before < int(length):
                    raise ConnectionError("IncompleteRead: body ended early")
                return
            except body_errors as exc:
                stalled = 0 if pos > before else stalled + 1
                if stalled >= MAX_FAILURES_WITHOUT_PROGRESS:
                    raise UrlFailed(f"connection failed {stalled} times in a row without progress, "
                                    f"last: {_describe(exc)}") from None
                # loop: resume from the bytes already on disk with a Range request


def _download_file_url(url: str, part: Path, resource: Resource) -> None:
    source = Path(unquote(urlsplit(url).path))
    if not source.is_file():
        raise UrlFailed("no such local file")
    size = source.stat().st_size
    if resource.size is not None and size > resource.size:
        raise _too_large(resource, size, "holds")
    shutil.copyfile(source, part)


def _fetch_to_part(session: requests.Session, url: str, part: Path, resource: Resource,
                   quiet: bool) -> None:
    if url.startswith("file://"):
        _download_file_url(url, part, resource)
    elif url.startswith(("http://", "https://")):
        _download_http(session, url, part, resource, quiet)
    else:
        raise UrlFailed("unsupported URL scheme (use http, https or file)")


def _fetch_verified(session: requests.Session, url: str, part: Path, resource: Resource,
                    quiet: bool) -> None:
    """Download (or finish) ``part`` from ``url`` and verify it."""
    leftover = part.exists() and part.stat().st_size > 0
    if not (leftover and resource.size is not None and part.stat().st_size >= resource.size):
        _fetch_to_part(session, url, part, resource, quiet)
    try:
        verify(part, resource, label="downloaded file")
    except ChecksumError:
        if not leftover:
            raise
        # the partial file came from an earlier run (maybe another server): start clean once
        part.unlink()
        _fetch_to_part(session, url, part, resource, quiet)
        verify(part, resource, label="downloaded file")


def download(urls: list[str], dest: Path, resource: Resource, *, quiet: bool = True) -> Path:
    """Put a verified copy of ``resource`` at ``dest``, trying ``urls`` in order.

    The caller holds the resource lock, so ``<dest>.part`` belongs to this process.
    Raises :class:`ChecksumError` when every URL gave wrong bytes, else
    :class:`DownloadError`.
    """
    part = dest.with_name(dest.name + ".part")
    if not urls:
        raise DownloadError(f"{resource.filename}: no URL to download it from; set DMZOO_MIRROR "
                            "or use 'dmzoo prepare --from DIR'")
    tried: list[str] = []
    wrong_bytes = 0
    session = new_session()
    try:
        for url in urls:
            try:
                _fetch_verified(session, url, part, resource, quiet)
            except ChecksumError as exc:
                tried.append(f"  {url}: {exc}")
                wrong_bytes += 1
                part.unlink(missing_ok=True)  # wrong bytes: never resume from them
                continue
            except UrlFailed as exc:
                tried.append(f"  {url}: {exc}")  # the .part stays: the next URL or run resumes it
                continue
            with open(part, "rb") as f:
                os.fsync(f.fileno())
            os.replace(part, dest)
            return dest
    finally:
        session.close()
    if wrong_bytes == len(urls):
        raise ChecksumError(f"could not download {resource.filename}: every URL gave wrong "
                            "bytes:\n" + "\n".join(tried)
                            + "\nThe published file may have changed; check the spec's checksum "
                            "or set DMZOO_MIRROR to a trusted mirror")
    raise DownloadError(f"could not download {resource.filename}; every URL failed:\n"
                        + "\n".join(tried)
                        + "\nCheck your network, set DMZOO_MIRROR to a mirror, or download the "
                        "file yourself and run 'dmzoo prepare NAME --from DIR'")
