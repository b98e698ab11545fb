"""Every error dmzoo raises on purpose derives from :class:`DmzooError`.

Each subclass is one kind of mistake, so callers can catch exactly what they
can handle, and each message says what was wrong and what to do about it.
"""

from __future__ import annotations


class DmzooError(Exception):
    """Base of all dmzoo errors."""


class SpecError(DmzooError, ValueError):
    """A datamodule spec is malformed (raised while validating plugin data)."""


class PluginError(DmzooError):
    """A plugin failed to import, raised in a hook, or returned invalid data."""


class DataModuleNotFoundError(DmzooError, LookupError):
    """No registered datamodule has the requested name."""


class VersionNotFoundError(DmzooError, LookupError):
    """The datamodule exists, but no registered version matches the request."""


class InvalidVersionError(DmzooError, ValueError):
    """A version or version specifier does not parse (PEP 440)."""


class InvalidNameError(DmzooError, ValueError):
    """A datamodule reference does not follow ``[namespace/]name[@version]``."""


class AmbiguousNameError(DmzooError, LookupError):
    """A bare name is provided by more than one namespace."""


class InvalidArgumentError(DmzooError, TypeError):
    """A keyword argument does not fit the datamodule's constructor."""


class MissingHookError(DmzooError, NotImplementedError):
    """A DataModule was asked for a loader it does not define."""


class MissingExtraError(DmzooError, ImportError):
    """An optional dependency (a pip extra) is needed but not installed."""


class StorageError(DmzooError):
    """Base of the data acquisition errors (download, checksum, cache)."""


class FetchError(StorageError):
    """A resource file could not be obtained: catch this for "download failed" of any kind.

    The rule: :class:`ChecksumError` when every source delivered a file but the bytes were
    wrong everywhere (size or digest; a server sending more than the expected size counts
    as wrong bytes); :class:`DownloadError` when at least one source failed for another
    reason (network, HTTP status, HTML page, too slow), so retrying later may help.
    """


class DownloadError(FetchError):
    """Not every source delivered the file; the message lists each URL and why it failed."""


class ChecksumError(FetchError):
    """A file's size or digest differs from the one recorded in the spec, from every source."""


class OfflineError(StorageError):
    """Files are missing and the network is disabled (``DMZOO_OFFLINE=1``)."""


class UnsafeArchiveError(StorageError):
    """An archive member would land outside the extraction folder, or the archive would
    expand past its size limit (an archive bomb)."""


class CachePermissionError(StorageError, PermissionError):
    """The cache exists but this user may not read or write it (not damage: ask its owner)."""


class NotPreparedError(StorageError):
    """``setup()`` ran before ``prepare_data()`` completed for this data dir."""


class DataFormatError(DmzooError, ValueError):
    """A data file is truncated, has a wrong header, or does not parse."""


class DamagedCacheError(StorageError, DataFormatError):
    """A prepared cache fails a check at ``setup()`` (missing, resized or out-of-range data);
    ``dmzoo prepare NAME`` repairs it."""


class SplitMismatchError(DmzooError, ValueError):
    """A checkpoint was made with different split indices than this run."""


class GalleryError(DmzooError, ValueError):
    """The docs or gallery build was pointed at a wrong folder, or Sphinx failed."""


class InvalidStageError(DmzooError, ValueError):
    """``setup``/``teardown`` got a stage other than fit, validate, test, predict or None."""


class SpecMismatchError(DmzooError, ValueError):
    """A checkpoint's datamodule state was saved for another dataset or MAJOR version."""


class InvalidSettingError(DmzooError, ValueError):
    """An environment setting (e.g. ``DMZOO_LIGHTNING``) has a value dmzoo does not accept."""


class NotSetUpError(DmzooError, RuntimeError):
    """A loader or fitted property was used before ``setup()`` built the splits."""


class DataNotFoundError(DmzooError, FileNotFoundError):
    """A data file the user named (``data=``, ``test_data=``...) does not exist."""


def shorten(text: object, limit: int = 120) -> str:
    """``repr``-like echo of user input for messages, cut to ``limit`` characters."""
    shown = repr(text) if isinstance(text, str) else str(text)
    return shown if len(shown) <= limit else f"{shown[:limit]}... ({len(str(text))} characters)"
