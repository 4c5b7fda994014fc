"""Failures to write the workspace's disk: full, read-only, not allowed.

They come as `OSError`s (the raw archive, moved files) or as DuckDB errors (the store file and
its write-ahead log), and a person needs the same one line for both: what could not be written
and why, not a traceback. `write_failure` tells such a failure from any other error.

Example:
    >>> import errno
    >>> write_failure(OSError(errno.ENOSPC, "No space left on device"))
    'no space left on device'
    >>> write_failure(ValueError("not a disk problem")) is None
    True
"""

from __future__ import annotations

import errno

import duckdb

_REASONS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a file stands where a folder should be",
}
# DuckDB reports the operating system's message inside its own.
_DUCKDB_REASONS = {
    "No space left on device": _REASONS[errno.ENOSPC],
    "Disk quota exceeded": _REASONS[errno.EDQUOT],
    "Read-only file system": _REASONS[errno.EROFS],
    "Permission denied": _REASONS[errno.EACCES],
}


def write_failure(exc: BaseException) -> str | None:
    """Why `exc` is a failure to write to disk, in a few words; None for any other error."""
    if isinstance(exc, OSError):
        return _REASONS.get(exc.errno or 0)
    if isinstance(exc, duckdb.Error):
        text = str(exc)
        return next((why for marker, why in _DUCKDB_REASONS.items() if marker in text), None)
    return None
