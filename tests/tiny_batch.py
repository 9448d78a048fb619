"""The tiny synthetic zone of test_routing_zonepack (two posts, 54 nodes) set up for a batch: its pack
under ``packs/``, a light base scenario and a batch file (shared by test_batch and test_procs)."""

from __future__ import annotations

from pathlib import Path

from test_routing_zonepack import write_pack

#: the base scenario of the batch files: both posts, a 100 m grid, no map / report / GeoPackage
BASE = """\
name = "tiny"
zone = "tinyzone"
thresholds = [2, 3, 4]
[posts]
active = ["T1", "T2"]
[demand]
grid_m = 100
[outputs]
map = false
report = false
gpkg = false
"""


def batch_folder(root: Path, batch_name: str, batch_text: str) -> Path:
    """``root`` with ``packs/tinyzone``, ``base.toml`` (:data:`BASE`) and the batch file ``batch_name``."""
    write_pack(root / "packs")
    (root / "base.toml").write_text(BASE)
    (root / batch_name).write_text(batch_text)
    return root
