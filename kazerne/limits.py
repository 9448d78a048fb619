"""Refusing sizes that cannot fit in memory, before trying to allocate them.

A 12-byte instance header (``60000 0 1``) or an absurd count in a scenario must give one clear
line with the size, not a ``MemoryError`` (or the kernel's OOM killer) minutes later.
"""

from __future__ import annotations

import os

from .errors import KazerneError, ModelInputError

__all__ = ["available_memory", "format_bytes", "require_memory"]


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), ``None`` when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def format_bytes(n: float) -> str:
    """``26.8 GiB``-style size."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024.0
    return f"{n:.1f} PiB"  # pragma: no cover


def require_memory(
    nbytes: float,
    what: str,
    *,
    source: str | None = None,
    field: str | None = None,
    error: type[KazerneError] = ModelInputError,
) -> None:
    """Raise ``error`` (one line with both sizes) when ``nbytes`` exceed the available memory.

    Parameters
    ----------
    nbytes : float
        Bytes the caller is about to allocate (its largest array, or the sum of a few).
    what : str
        What they hold, e.g. ``"the 60000 x 60000 cost matrix"``.
    """
    avail = available_memory()
    if avail is not None and nbytes > avail:
        raise error(
            f"{what} needs {format_bytes(nbytes)} of memory; only {format_bytes(avail)} is available",
            source=source,
            field=field,
        )
