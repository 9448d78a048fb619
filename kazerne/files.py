"""Small file-system helpers shared by the network cache and the report writers.

* :func:`umask` — the process's umask, read without changing it where the system allows;
  files kazerne writes get ``0o666 & ~umask`` (folders ``0o777 & ~umask``), like any file the
  user creates, also when they were first created as private temporaries.
* :func:`temp_prefix` / :func:`remove_stale` — temporary files and folders carry the host
  name and process id of their writer (``.<name>.tmp-<host>-<pid>-<random>``), so that a
  later run can remove those left behind by a process that was killed (``kill -9``, power
  loss) without touching the temporaries of a run still in progress.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

__all__ = ["umask", "apply_umask", "temp_prefix", "remove_stale", "pid_alive"]


def umask() -> int:
    """The current umask (from ``/proc/self/status`` on Linux, else set and restored)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def apply_umask(path: str | Path, directory: bool = False) -> None:
    """Give ``path`` the permissions a plain ``open`` / ``mkdir`` would have given it."""
    os.chmod(path, (0o777 if directory else 0o666) & ~umask())


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())[:40] or "host"


def temp_prefix(name: str, kind: str = "tmp") -> str:
    """Prefix for a temporary beside ``name``: ``.<name>.<kind>-<host>-<pid>-`` (mkstemp adds a random tail)."""
    return f".{name}.{kind}-{_host()}-{os.getpid()}-"


def pid_alive(pid: int) -> bool:
    """True when a process ``pid`` exists on this host (or we may not signal it)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def remove_stale(folder: str | Path, name: str) -> list[Path]:
    """Remove temporaries of ``name`` in ``folder`` left by dead processes of this host.

    Only entries named by :func:`temp_prefix` are considered; those of a live process or of
    another host (a shared file system) are kept. Returns the removed paths.
    """
    folder = Path(folder)
    pat = re.compile(r"^\." + re.escape(name) + r"\.[a-z]+-(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-")
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    host = _host()
    for p in entries:
        m = pat.match(p.name)
        if not m or m.group("host") != host or pid_alive(int(m.group("pid"))):
            continue
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed
