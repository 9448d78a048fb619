"""Re-record tests/characterization/headlines.json from the code of this checkout.

    KAZERNE_DATA=../shared/zone-data python tests/characterization/record.py --why "issue 23: ..."

Runs every shipped scenario except those listed under ``not_covered`` and writes their flattened
headlines; ``--why`` appends a line to ``updates`` (which issue changed figures on purpose, and why).
Only for recording a deliberate change: the characterization test compares against this file.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))

from characterization.headlines import flatten, run_unhurried  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--why", required=True, help="which issue changes figures on purpose, and why")
    ap.add_argument("--only", nargs="*", help="re-record only these scenario stems")
    args = ap.parse_args()

    path = HERE / "headlines.json"
    rec = (
        json.loads(path.read_text(encoding="utf-8"))
        if path.exists()
        else {"not_covered": ["greenfield-frontier-10min"], "updates": [], "scenarios": {}}
    )
    stems = args.only or sorted(
        p.stem
        for p in (REPO / "scenarios").glob("*.toml")
        if not p.name.startswith("batch") and p.stem not in rec["not_covered"]
    )
    with tempfile.TemporaryDirectory() as tmp:
        for stem in stems:
            target = run_unhurried(REPO / "scenarios" / f"{stem}.toml", tmp)  # as the test runs it
            rec["scenarios"][stem] = flatten(json.loads((Path(target) / "summary.json").read_text(encoding="utf-8")))
            print(stem, len(rec["scenarios"][stem]), "figures", file=sys.stderr)
            path.write_text(
                json.dumps(rec, indent=1, sort_keys=True) + "\n", encoding="utf-8"
            )  # kept if a later run fails
    rec["updates"].append({"scenarios": stems, "why": args.why})
    path.write_text(json.dumps(rec, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
