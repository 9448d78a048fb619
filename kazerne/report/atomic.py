"""Atomic output: write to a temporary beside the target, then rename.

A run that fails half-way leaves no half-written file and, for folders, no half-filled folder.

An output folder (``--out DIR`` → ``DIR/<name>/``) is replaced only when a previous kazerne run
wrote it: such a folder holds a marker file (:data:`MARKER`) listing the files kazerne put there,
and nothing else. A folder of the user's own files, a folder with a file added by hand, or a plain
file of that name is never touched: the run stops with one line saying so. :func:`check_output_dir`
performs the same checks (and a write probe) before the computation, so that an unusable ``--out``
is found in the first second, not after an hour of solving.

Temporaries carry host and process id (:func:`kazerne.files.temp_prefix`); those left by a run
that was killed are removed by the next run writing beside them (those of earlier kazerne versions,
without host and pid, once they are a day old). Everything is written with the user's umask.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from ..errors import KazerneError, OutputError
from ..files import apply_umask, remove_stale, temp_prefix

#: Marker file inside every output folder kazerne writes: which files it wrote.
MARKER = ".kazerne-output.json"

__all__ = [
    "MARKER",
    "atomic_path",
    "atomic_dir",
    "check_folder_name",
    "check_output_dir",
    "commit_dir",
    "write_text",
    "write_json",
]


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path; on success it is renamed to ``path``, on error removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        apply_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def write_json(path: str | Path, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


#: Temporaries of kazerne versions before host/pid names (``.NAME.xxxxxxxx``, ``.NAME.old.xxxxxxxx``,
#: ``.NAME.xxxxxxxx.tmp``) are removed once they are this old (seconds): no run takes a day to write.
LEGACY_TEMP_AGE_S = 86400.0


def _remove_legacy(folder: Path, name: str) -> None:
    pat = re.compile(r"^\." + re.escape(name) + r"\.(old\.)?[a-z0-9_]{8}(\.tmp)?$")
    now = time.time()
    try:
        entries = [p for p in folder.iterdir() if pat.match(p.name)]
    except OSError:
        return
    for p in entries:
        try:
            if now - p.lstat().st_mtime < LEGACY_TEMP_AGE_S:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
        except OSError:
            pass


def _fail(path: Path, field: str | None, msg: str):
    raise OutputError(msg, source=str(path), field=field)


def _head(path: Path, n: int = 4096) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(n)
    except OSError:
        return ""


def _check_replaceable(path: Path, field: str | None) -> None:
    """Nothing at ``path``, or a folder a previous kazerne run wrote (marker, no foreign file)."""
    if not os.path.lexists(path):
        return
    if path.is_symlink():
        _fail(
            path,
            field,
            "exists and is a symbolic link; kazerne replaces only folders it wrote itself "
            "(move it away or choose another --out)",
        )
    if not path.is_dir():
        _fail(
            path,
            field,
            "exists and is a file, not a kazerne output folder; kazerne will not replace it "
            "(move it away or choose another --out)",
        )
    marker = path / MARKER
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        written = set(info["files"])
        if info.get("written_by") != "kazerne" or not all(isinstance(f, str) for f in written):
            raise ValueError
    except FileNotFoundError:
        if (path / "summary.json").is_file() and '"kazerne_version"' in _head(path / "summary.json"):
            _fail(
                path,
                field,
                f"holds results of an earlier kazerne version (no {MARKER} inside, so its files "
                "cannot be told from yours); move it away once, or choose another --out",
            )
        _fail(
            path,
            field,
            f"exists and was not written by kazerne (no {MARKER} inside); kazerne will not "
            "replace it (move it away or choose another --out)",
        )
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        _fail(
            path,
            field,
            f"exists but its {MARKER} is not kazerne's; kazerne will not replace it "
            "(move it away or choose another --out)",
        )
    try:
        present = {p.name for p in path.iterdir()} - {MARKER}
    except OSError as exc:
        _fail(path, field, f"cannot list the folder ({exc.strerror})")
    foreign = sorted(present - written)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        _fail(
            path,
            field,
            f"holds files kazerne did not write ({shown}); kazerne will not replace the folder "
            "(move them away or choose another --out)",
        )


def check_output_dir(path: str | Path, field: str | None = "--out") -> None:
    """Check, before any computation, that :func:`atomic_dir` can write ``path``.

    Creates nothing that stays: the nearest existing parent must be a writable folder (a
    temporary folder is made and removed there to be sure), and ``path`` must be absent or a
    previous kazerne output folder.

    Raises
    ------
    OutputError
        One line naming the path: a file where a folder is needed, a folder that is not
        writable, or a folder / file kazerne did not write.
    """
    path = Path(path)
    _check_replaceable(path, field)
    anc = path.parent
    while not os.path.lexists(anc) and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        _fail(anc, field, "is a file, expected a folder for the results")
    try:
        probe = tempfile.mkdtemp(prefix=temp_prefix(path.name, "probe"), dir=anc)
        os.rmdir(probe)
    except OSError as exc:
        _fail(anc, field, f"cannot write in this folder ({exc.strerror})")


#: Longest folder name accepted (bytes, UTF-8): room for the temporaries' prefix within 255.
MAX_NAME_BYTES = 150


def check_folder_name(name, field: str) -> str:
    """``name`` as the name of one folder to create inside ``--out``, or :class:`OutputError`.

    Refused: empty, ``.`` / ``..``, a path (``/`` or ``\\``), a leading dot (kazerne's
    temporaries), control characters (a newline), leading / trailing spaces, over
    :data:`MAX_NAME_BYTES` bytes. So a name never reaches outside ``--out`` nor names ``--out``.
    """
    shown = repr(name) if isinstance(name, str) else type(name).__name__
    if not isinstance(name, str) or not name or name in (".", ".."):
        raise OutputError(f"expected a folder name, got {shown}", field=field)
    if "/" in name or "\\" in name or (os.altsep and os.altsep in name):
        raise OutputError(
            f"expected a folder name, not a path, got {shown} (the folder is made inside --out)", field=field
        )
    if not name.isprintable() or name != name.strip():
        raise OutputError(f"expected a folder name without control characters or edge spaces, got {shown}", field=field)
    if name.startswith("."):
        raise OutputError(f"expected a folder name not starting with '.', got {shown}", field=field)
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise OutputError(
            f"expected a folder name of at most {MAX_NAME_BYTES} bytes, got {len(name)} characters", field=field
        )
    return name


def commit_dir(tmp: Path, path: Path, field: str | None = "--out") -> None:
    """Write the marker of the finished temporary folder ``tmp`` and put it in place of ``path``
    (absent, or a folder kazerne wrote: checked again now)."""
    written = sorted(p.name for p in tmp.iterdir())
    from .. import __version__

    write_json(tmp / MARKER, {"written_by": "kazerne", "kazerne_version": __version__, "files": written})
    _check_replaceable(path, field)  # again: someone may have put something there meanwhile
    if os.path.lexists(path):
        old = Path(tempfile.mkdtemp(prefix=temp_prefix(path.name, "old"), dir=path.parent))
        os.replace(path, old / "x")
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


@contextlib.contextmanager
def atomic_dir(path: str | Path, field: str | None = "--out"):
    """Yield a temporary folder; on success it replaces ``path``.

    ``path`` must be absent or a previous kazerne output folder (see the module docstring);
    otherwise, and when writing fails (disk full, permissions), :class:`OutputError` names it.
    """
    path = Path(path)
    _check_replaceable(path, field)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(path.parent, path.name)
        _remove_legacy(path.parent, path.name)
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(path.name), dir=path.parent))
        apply_umask(tmp, directory=True)
    except OSError as exc:
        _fail(path, field, f"cannot create the output folder ({exc.strerror})")
    try:
        yield tmp
        commit_dir(tmp, path, field)
    except KazerneError:  # the caller's one-line error (a ZonePackError is an OSError too)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _fail(path, field, f"cannot write the results ({exc.strerror or exc})")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
