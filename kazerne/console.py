"""The terminal side of every command (``kazerne ...`` and ``run_scenario.py``): one-line errors with
exit codes, Ctrl-C and SIGTERM, and the library's log records and warnings on stderr."""

from __future__ import annotations

import signal
import sys

from .errors import KazerneError

__all__ = ["Terminated", "guarded", "one_line"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that temporaries are removed on the way out."""


def _on_sigterm(signum, frame):
    raise Terminated()


def one_line(text: str, limit: int = 2000) -> str:
    """``text`` as one printable line: control characters escaped, at most ``limit`` characters."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return out if len(out) <= limit else out[: limit - 4] + " ..."


def _close_progress_bars() -> None:
    """Close open tqdm bars first, so that the error is the last line on the terminal."""
    tq = sys.modules.get("tqdm")
    for bar in list(getattr(getattr(tq, "tqdm", None), "_instances", []) or []):
        try:
            bar.close()
        except Exception:  # noqa: BLE001 - a bar that cannot close must not hide the error
            pass


class _Console:
    """The command line's view of the library: ``logging.getLogger("kazerne")`` records on stderr as
    ``kazerne: message`` (info only without ``--quiet``) and ``KazerneWarning`` s as one
    ``kazerne: warning: ...`` line each (always)."""

    def __init__(self, quiet: bool):
        import logging

        self.logger = logging.getLogger("kazerne")
        self.handler = logging.StreamHandler(sys.stderr)
        self.handler.setFormatter(logging.Formatter("kazerne: %(message)s"))
        self.handler.setLevel(logging.WARNING if quiet else logging.INFO)
        self.level = self.logger.level

    def __enter__(self):
        import logging
        import warnings

        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False
        self._warn = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            from .errors import KazerneWarning

            if issubclass(category, KazerneWarning):
                print(f"kazerne: warning: {message}", file=sys.stderr, flush=True)
            else:
                self._warn(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        return self

    def __exit__(self, *exc):
        import warnings

        warnings.showwarning = self._warn
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)
        self.logger.propagate = True
        return False


def guarded(fn, *args, quiet: bool = False) -> int:
    """Run ``fn(*args)`` as a command: a user error is one line on stderr and exit code 2, Ctrl-C one
    line and 130, SIGTERM one line and 143; never a traceback for these. Library log records and
    warnings are shown on stderr (see :class:`_Console`)."""
    try:
        old = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (e.g. called from a notebook's worker)
        old = None
    try:
        with _Console(quiet):
            return fn(*args)
    except KazerneError as exc:
        _close_progress_bars()
        print(f"kazerne: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except Terminated:
        _close_progress_bars()
        print("kazerne: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        _close_progress_bars()
        print("kazerne: interrupted", file=sys.stderr)
        return 130
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)
