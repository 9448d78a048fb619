"""User-facing error types.

Every error a user can cause (a bad scenario file, an unknown post, a point outside the
network, an infeasible model) is raised as a subclass of :class:`KazerneError`; bad values are also
``ValueError`` s (:class:`ScenarioError`, :class:`ModelInputError`, :class:`InfeasibleError`,
:class:`SnapError`) and missing or unreadable data ``OSError`` s (:class:`ZonePackError`,
:class:`NetworkFetchError`), so ``except ValueError`` works in a notebook. The command
line prints ``str(error)`` as one line and exits with code 2, without a traceback. Messages
name the file (when there is one), the field and what was expected.
"""

from __future__ import annotations

import re


class KazerneError(Exception):
    """Base class of all user-facing errors (exit code 2, one line, no traceback)."""

    exit_code = 2

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        message = _one_line(message)
        self.source = source
        self.field = field
        self.detail = message  # the message without the "file: field: " prefix
        parts = []
        if source:
            parts.append(_one_line(source))
        if field:
            parts.append(_one_line(field))
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


#: line breaks of every kind (str.splitlines splits on all of them)
_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+\s*")


def _one_line(text) -> str:
    """``text`` with every line break (and the spaces around it) replaced by one space: an error is
    always one line, whatever a file name or a caller's value holds."""
    return _BREAKS.sub(" ", str(text))


class ZonePackError(KazerneError, OSError):
    """A zone pack is missing, incomplete or malformed."""


class ScenarioError(KazerneError, ValueError):
    """A scenario file is malformed or names something that does not exist."""


class ModelInputError(KazerneError, ValueError):
    """Bad input to an optimisation model (NaN / negative costs, unknown site ids, bad p)."""


class InfeasibleError(KazerneError, ValueError):
    """A model has no feasible solution; the message says why (e.g. which demand is unreachable).

    ``uncovered``: the ids of the demand points no allowed site reaches, when that is the reason."""

    uncovered: list | None = None


class SnapError(KazerneError, ValueError):
    """A point cannot be placed on the road network (outside it, or in the data gap)."""


class NetworkFetchError(KazerneError, OSError):
    """Building a zone pack from live OpenStreetMap failed (e.g. no internet)."""


class OutputError(KazerneError):
    """An output folder or file cannot be written, or would replace something kazerne did not write."""


class NodeIdError(KazerneError, ValueError):
    """A network node id that is not an integer in ``[0, n_nodes)``."""


class KazerneWarning(UserWarning):
    """Something a user must know about a result (a time limit hit, an incomplete sweep); the command
    line shows it as one ``kazerne: warning:`` line on stderr."""


class RecordsError(KazerneError, ValueError):
    """A dispatch-records file that cannot be used as a whole (missing column, not UTF-8, not a table);
    the message names the file, the row and the column. Single bad records are not errors: they are
    counted and listed as rejects."""
