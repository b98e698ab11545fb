"""Cross-process locks on files in the dataset folder.

``filelock.FileLock`` uses ``fcntl.flock`` (``msvcrt`` on Windows): the kernel
drops the lock when its holder dies, so a process killed with SIGKILL never
leaves a lock that blocks the next run. The lock file itself may stay; it is
empty and harmless. While waiting, a note is printed once so a user knows why
nothing happens.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import StorageError
from .paths import LOCKS

POLL_S = 0.05


def writable_dir(path: Path) -> Path:
    """Create ``path``; a read-only or unusable location gets a clear :class:`StorageError`."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise StorageError(
            f"cannot write to the data directory {path} ({exc.strerror or exc}); pass a writable "
            "data_dir=, set DMZOO_HOME to a writable folder, or prepare the data once where it "
            "is writable (a prepared read-only cache is fine)"
        ) from None
    return path


@contextmanager
def locked(folder: Path, name: str, *, quiet: bool = True, timeout: float | None = None
           ) -> Iterator[None]:
    """Hold ``<folder>/.locks/<name>.lock`` for the block; wait for other holders."""
    # deferred: filelock imports asyncio (~25 ms); importing storage stays cheap
    from filelock import FileLock, Timeout

    lock_dir = writable_dir(folder / LOCKS)
    lock = FileLock(str(lock_dir / f"{name}.lock"), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not quiet:
            print(f"dmzoo: waiting for another process working on {folder} ({name})",
                  file=sys.stderr)
        try:
            lock.acquire(timeout=-1 if timeout is None else timeout, poll_interval=POLL_S)
        except Timeout:
            raise StorageError(f"{folder} is in use by another process ({name} lock held "
                               f"for over {timeout:g}s); retry when it has finished") from None
    try:
        yield
    finally:
        lock.release()
