"""What the best routes drive on: contraflow legs and emergency passages, with the people they serve.

:func:`best_route_usage` takes sites (posts) and demand points, gives each point its fastest site
(turnout + drive along its street, as the travel-time matrices measure it) and follows every such
route back through the site's shortest-path tree: which edges are driven against their one-way
direction (contraflow) and which emergency passages are used, with the population whose fastest
route uses them. The network audit reports it (``kazerne audit``), so that every contraflow leg and
every passage a result depends on can be checked by someone who knows the streets.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csgraph

from .profiles import CLASS_INDEX, HIGHWAY_CLASSES
from .snapping import demand_approach, departure_costs

#: Classes on which contraflow would be a fault of the rule (ramps, dual carriageways of main roads).
MAJOR_CLASSES = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
)


def best_route_usage(net, profile, site_nodes, turnout_s, demand, site_edge=None, site_frac=None) -> dict:
    """Contraflow and passages on the fastest routes from ``site_nodes`` (with ``turnout_s`` each) to
    the points of ``demand`` that have road data. With ``site_edge`` / ``site_frac`` (a
    :class:`~kazerne.Sites`' place on its street) each site leaves from its point towards either end
    of its edge (:func:`~kazerne.routing.snapping.departure_costs`), as the matrices measure it.
    Returns a JSON-ready dict: counts, lengths and population per kind, and ``passages`` /
    ``contraflow`` lists of streets (name, class, metres used, population served), largest
    population first."""
    site_nodes = np.asarray(site_nodes, np.int64)
    turnout = np.broadcast_to(np.asarray(turnout_s, dtype=float), site_nodes.shape)
    roots, root_cost, owner = site_nodes, np.zeros(len(site_nodes)), np.arange(len(site_nodes))
    if site_edge is not None:  # two roots per site: towards the tail, towards the head of its edge
        sa, sca, sb, scb = departure_costs(net, profile, site_edge, site_frac, site_nodes)
        roots, root_cost = np.concatenate([sa, sb]), np.concatenate([sca, scb])
        owner = np.concatenate([owner, owner])
    turnout = turnout[owner]
    a, ca, b, cb, _ = demand_approach(net, profile, demand)
    ok = ~np.asarray(demand.no_road_data, dtype=bool)
    w = np.asarray(demand.weight, dtype=float)
    g = net.csr(profile)
    eids, revs = net.csr_edges(profile)
    dist, pred = csgraph.dijkstra(g, directed=True, indices=roots, return_predecessors=True)
    dist = np.atleast_2d(dist) + root_cost[:, None]
    pred = np.atleast_2d(pred)
    via_a = dist[:, a] + ca
    via_b = dist[:, b] + cb
    resp = np.minimum(via_a, via_b) + turnout[:, None]
    best = np.argmin(resp, axis=0)
    reached = ok & np.isfinite(resp.min(axis=0))
    cols = np.arange(len(a))
    end_b = via_b[best, cols] < via_a[best, cols]
    end = np.where(end_b, b, a)
    em = net.emergency_only()
    edge_pop = np.zeros(net.n_edges)  # people whose fastest route drives the edge (forward)
    rev_pop = np.zeros(net.n_edges)  # ... against its one-way direction
    contra_pts = np.zeros(len(a), dtype=bool)
    passage_pts = np.zeros(len(a), dtype=bool)
    from .routes import entry_index

    for s in range(len(roots)):
        mine = np.flatnonzero(reached & (best == s))
        if not len(mine):
            continue
        if site_edge is not None and s < len(site_nodes):  # the first roots leave towards the tail
            e0 = int(np.asarray(site_edge)[owner[s]])
            if e0 >= 0 and net.oneway[e0] and float(np.asarray(site_frac)[owner[s]]) > 0:
                rev_pop[e0] += w[mine].sum()  # backwards along its one-way street: contraflow
                contra_pts[mine] = True
        p = pred[s]
        has = p >= 0
        idx = np.flatnonzero(has)
        ent = entry_index(net, profile, p[idx], idx)
        e_of = -np.ones(net.n_nodes, np.int64)
        r_of = np.zeros(net.n_nodes, bool)
        e_of[idx], r_of[idx] = eids[ent], revs[ent]
        # per node: whether the path from the site uses contraflow / a passage, and the node's depth
        # in the tree (pointer jumping: log(depth) vectorised steps)
        par = np.where(has, p, np.arange(net.n_nodes))
        c_on, p_on = r_of.copy(), has & em[np.maximum(e_of, 0)]
        depth = has.astype(np.int64)
        P = par
        while True:
            c_on, p_on, depth = c_on | c_on[P], p_on | p_on[P], depth + depth[P]
            PP = P[P]
            if np.array_equal(PP, P):
                break
            P = PP
        # people flow up the tree, deepest level first
        flow = np.zeros(net.n_nodes)
        np.add.at(flow, end[mine], w[mine])
        nodes_by_depth = np.argsort(-depth, kind="stable")
        levels = np.split(nodes_by_depth, np.flatnonzero(np.diff(depth[nodes_by_depth])) + 1)
        for lev in levels:
            lev = lev[has[lev] & (flow[lev] > 0)]
            if not len(lev):
                continue
            np.add.at(flow, p[lev], flow[lev])
            fw, rv = lev[~r_of[lev]], lev[r_of[lev]]
            np.add.at(edge_pop, e_of[fw], flow[fw])
            np.add.at(rev_pop, e_of[rv], flow[rv])
        contra_pts[mine] |= c_on[end[mine]]
        passage_pts[mine] = p_on[end[mine]]
    # the partial edge at the end: driven back along a one-way edge is contraflow too
    e_end = np.asarray(demand.edge) if getattr(demand, "edge", None) is not None else None
    if e_end is not None:
        sel = reached & (e_end >= 0)
        back = sel & end_b & net.oneway[np.maximum(e_end, 0)]
        np.add.at(rev_pop, e_end[back], w[back])
        contra_pts |= back
        pe = sel & em[np.maximum(e_end, 0)]
        np.add.at(edge_pop, e_end[pe], w[pe])
        passage_pts |= pe
    major = np.isin(net.cls, [CLASS_INDEX[c] for c in MAJOR_CLASSES])
    dual = net.dual if net.dual is not None else np.zeros(net.n_edges, bool)
    track = net.cls == CLASS_INDEX["track"]
    used_rev = rev_pop > 0
    used_pass = em & ((edge_pop + rev_pop) > 0)
    return {
        "rule": "each demand point's fastest post by turnout + drive; population of the points whose route uses it",
        "points": int(reached.sum()),
        "population": float(w[reached].sum()),
        "contraflow_population": float(w[contra_pts].sum()),
        "contraflow_points": int(contra_pts.sum()),
        "contraflow_edges": int(used_rev.sum()),
        "contraflow_km": round(float(net.length[used_rev].sum()) / 1000, 2),
        "contraflow_on_major_roads_edges": int((used_rev & major).sum()),
        "contraflow_on_dual_carriageways_edges": int((used_rev & dual).sum()),
        "passage_population": float(w[passage_pts].sum()),
        "passage_points": int(passage_pts.sum()),
        "passage_edges": int(used_pass.sum()),
        "passage_km": round(float(net.length[used_pass].sum()) / 1000, 2),
        "track_passage_edges": int((used_pass & track).sum()),
        "passages": _by_street(net, used_pass, edge_pop + rev_pop),
        "contraflow": _by_street(net, used_rev, rev_pop),
    }


def _by_street(net, used, pop) -> list[dict]:
    """Used edges grouped by street name and class: metres, population served (the largest edge's),
    and a point (lon, lat) of the busiest edge."""
    from .network import to_wgs84

    rows: dict = {}
    for e in np.flatnonzero(used):
        name = str(net.names[net.name_id[e]]) if net.name_id[e] >= 0 else "(unnamed)"
        k = (name, HIGHWAY_CLASSES[net.cls[e]])
        r = rows.setdefault(k, {"street": name, "road_class": k[1], "length_m": 0.0, "population_served": 0.0, "e": e})
        r["length_m"] += float(net.length[e])
        if pop[e] > r["population_served"]:
            r["population_served"], r["e"] = float(pop[e]), e
    out = []
    for r in rows.values():
        e = r.pop("e")
        lon, lat = to_wgs84([(net.x[net.u[e]] + net.x[net.v[e]]) / 2], [(net.y[net.u[e]] + net.y[net.v[e]]) / 2])
        out.append(
            {
                **r,
                "length_m": round(r["length_m"], 1),
                "population_served": round(r["population_served"], 1),
                "lon": round(float(lon[0]), 6),
                "lat": round(float(lat[0]), 6),
            }
        )
    return sorted(out, key=lambda r: -r["population_served"])
