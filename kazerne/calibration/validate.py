"""A scenario's model against dispatch records: :func:`validate` (``kazerne validate RECORDS SCENARIO``).

* **Record by record**: each record's own post -> its incident under the scenario's profile (its
  period), with the scenario's call handling and the median turnout of the post's crew type, against
  the logged call -> arrival (and departure -> arrival for the driving alone).
* **The headline like for like**: per incident, the observed first arrival (the earliest vehicle of
  the scenario's profile, from the call) against what the scenario's model gives at the incident's
  place (the fastest of the scenario's posts: call handling + median turnout + driving): the share of
  incidents reached within each threshold, modelled vs observed, for the zone, per municipality and
  per period of the call. These are incident-weighted figures, the basis of the published Belgian
  mean (11:25 in 2019, from the call, fires and other interventions of the fire services).
"""

from __future__ import annotations

import numpy as np

from ..routing.profiles import PERIOD_NAMES
from .fit import prediction_errors
from .periods import period_of
from .records import VEHICLE_TYPES, Records

__all__ = ["validate"]


def _share_rows(label: str, value: str, obs: np.ndarray, mod: np.ndarray, th_min) -> dict:
    row = {label: value, "incidents": int(len(obs))}
    for t in th_min:
        row[f"observed_within_{t:g}"] = round(float(np.mean(obs <= t * 60)), 4) if len(obs) else None
        row[f"modelled_within_{t:g}"] = round(float(np.mean(mod <= t * 60)), 4) if len(obs) else None
    row["observed_mean_min"] = round(float(np.mean(obs)) / 60, 2) if len(obs) else None
    row["modelled_mean_min"] = round(float(np.mean(mod)) / 60, 2) if len(obs) else None
    return row


def validate(zone, records, sc, progress=None) -> dict:
    """``{"summary": ..., "tables": ...}`` of the comparison (see the module docstring); ``records`` a
    :class:`Records` or a file, ``sc`` a parsed scenario or a scenario file."""
    from ..checks import check_zone
    from ..routing.paths import drive_times
    from ..scenarios.resolve import in_file, profile_of, resolve_posts
    from ..scenarios.schema import Scenario, parse_scenario

    check_zone(zone)
    if not isinstance(sc, Scenario):
        sc = parse_scenario(sc)
    if not isinstance(records, Records):
        from .records import read_records

        records = read_records(records, zone)
    prof = profile_of(sc)
    base = getattr(prof, "base", "") or prof.name
    mine = np.array([VEHICLE_TYPES[v][0] == base for v in records.vehicle_type.tolist()], dtype=bool)
    rec = records.subset(mine)
    with in_file(sc.path):
        posts = resolve_posts(zone, sc)
    scale = np.array([VEHICLE_TYPES[v][1] for v in rec.vehicle_type.tolist()])
    if progress is not None:
        progress.step(f"driving times of {len(rec):,} records and {len(posts)} posts")
    d_own = drive_times(zone.net, prof, rec.post_nodes)[rec.post, rec.node] / scale
    turn_crew = {c: float(sc.turnout_s.get(c, 300.0)) for c in set(rec.post_crews)}
    turn = np.array([turn_crew[rec.post_crews[p]] for p in rec.post.tolist()])
    call = float(sc.call_handling_s)
    mod_resp = call + turn + d_own
    obs_resp = rec.arrival - rec.call
    obs_drive = rec.arrival - rec.departure
    per = period_of(rec.weekday, rec.hour)
    names = [m.name for m in zone.pack.municipalities]
    rows = [
        {
            "row": int(rec.row[i]),
            "incident_id": rec.incident_id[i],
            "vehicle_type": rec.vehicle_type[i],
            "post": rec.post_ids[rec.post[i]],
            "municipality": names[rec.municipality[i]] if rec.municipality[i] >= 0 else "",
            "period": PERIOD_NAMES[per[i]],
            "observed_response_s": round(float(obs_resp[i]), 1),
            "modelled_response_s": round(float(mod_resp[i]), 1),
            "observed_drive_s": round(float(obs_drive[i]), 1) if np.isfinite(obs_drive[i]) else None,
            "modelled_drive_s": round(float(d_own[i]), 1),
        }
        for i in range(len(rec))
    ]
    # incidents: the first arrival observed vs the scenario's model at the incident's place
    from ..routing.snapping import drive_times_from

    # posts x nodes, each post leaving from its point on its street, as the scenario's runner has it
    dp = drive_times_from(zone.net, prof, posts.node, posts.edge, posts.frac)
    first: dict = {}
    for i, inc in enumerate(rec.incident_id.tolist()):
        if inc not in first or obs_resp[i] < obs_resp[first[inc]]:
            first[inc] = i
    idx = np.array(sorted(first.values()), dtype=np.int64)
    model_inc = call + np.min(posts.turnout_s[:, None] + dp[:, rec.node[idx]], axis=0)
    obs_inc = obs_resp[idx]
    th = list(sc.thresholds_min)
    muni = rec.municipality[idx]
    inz = muni >= 0  # the zone's row: incidents inside its municipalities
    head = [_share_rows("group", "zone", obs_inc[inz], model_inc[inz], th)]
    for m in sorted(set(muni.tolist())):
        sel = muni == m
        head.append(
            _share_rows(
                "group", f"municipality {names[m] if m >= 0 else '(outside)'}", obs_inc[sel], model_inc[sel], th
            )
        )
    for p, pname in enumerate(PERIOD_NAMES):
        sel = per[idx] == p
        if sel.any():
            head.append(_share_rows("group", f"period {pname}", obs_inc[sel], model_inc[sel], th))
    ok = np.isfinite(obs_drive)
    summary = {
        "kind": "validate",
        "scenario": {"name": sc.name, "zone": sc.zone, "file": str(sc.path)},
        "records": {**records.describe(), "compared": int(len(rec)), "other_profiles": int((~mine).sum())},
        "profile": prof.describe(),
        "record_by_record": {
            "response_from_call": prediction_errors(mod_resp, obs_resp),
            "drive_departure_to_arrival": prediction_errors(d_own[ok], obs_drive[ok]),
        },
        "headline": head,
        "assumptions": [
            f"road data {zone.net.describe()['source']} ({zone.net.describe()['road_data_date']}); modelled routes "
            "from the post's node to the incident's nearest node",
            f"the scenario's profile {prof.name} (period {prof.period or 'free-flowing'}) for every record",
            f"call handling {call:g} s; turnout = the median of the post's crew type (scenario [turnout])",
            "record by record: the record's own post to its incident; headline: per incident the first "
            "arrival observed vs the fastest of the scenario's posts modelled, from the call",
            "incident-weighted shares (like the published Belgian mean from the call, 11:25 in 2019); the "
            "baseline's shares are population-weighted: not the same figure",
        ],
    }
    return {"summary": summary, "tables": {"validation_records.csv": rows, "validation_headline.csv": head}}


def console_lines(summary: dict) -> list[str]:
    r = summary["record_by_record"]
    a, b = r["response_from_call"], r["drive_departure_to_arrival"]
    z = summary["headline"][0]
    ths = [k.split("_")[-1] for k in z if k.startswith("observed_within_")]
    lines = [
        f"validation of {summary['scenario']['name']} on {summary['records']['file']}: "
        f"{summary['records']['compared']} records, {z['incidents']} incidents",
        f"record by record, from the call: median |error| {a['median_abs_error_s']:.0f} s, bias {a['bias_s']:+.0f} s, "
        f"within 1 / 2 min {a['within_1_min']:.0%} / {a['within_2_min']:.0%}; driving alone: median |error| "
        f"{b['median_abs_error_s']:.0f} s, bias {b['bias_s']:+.0f} s",
        "share of incidents reached within (from the call), observed vs modelled:",
    ]
    for row in summary["headline"]:
        if row["incidents"] < 20 and row["group"] != "zone":
            continue
        cells = "  ".join(
            f"{t} min {row[f'observed_within_{t}']:.0%} vs {row[f'modelled_within_{t}']:.0%}" for t in ths
        )
        lines.append(
            f"  {row['group'][:34]:34s} n {row['incidents']:5d}  {cells}  mean {row['observed_mean_min']:.2f} vs "
            f"{row['modelled_mean_min']:.2f} min"
        )
    return lines
