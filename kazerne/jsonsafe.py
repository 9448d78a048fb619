"""Plain-JSON values from numpy-laden structures (shared by results and report writers)."""

from __future__ import annotations

import numpy as np


def json_safe(o):
    """Recursively turn numpy scalars/arrays into Python values; non-finite floats become ``None``."""
    if isinstance(o, dict):
        return {str(k): json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple, np.ndarray)):
        return [json_safe(v) for v in o]
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, (np.floating, float)):
        return float(o) if np.isfinite(o) else None
    return o
