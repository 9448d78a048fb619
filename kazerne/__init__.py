"""kazerne: where a fire and rescue zone's posts and paramedic teams should stand.

The public API, one typed path (travel times -> problem -> result)::

    import kazerne as kz
    zone = kz.load_zone("hvz-centrum")                        # zone pack + road network (cached)
    demand = kz.population_grid(zone)                         # DemandPoints (250 m grid)
    posts = kz.Sites.from_posts(zone)                         # today's active posts
    tt = kz.travel_times(zone, posts, demand, "fire_engine")  # TravelTimes: s from the alarm, turnout included
    tt = tt.shifted(kz.Clock())                              # from the 112 call (90 s), as every scenario run
    report = kz.evaluate(tt, demand, thresholds_min=[8, 10, 12, 15])   # CoverageReport
    cand = kz.Sites.candidates(zone, spacing_m=1000)
    res = kz.mclp(kz.travel_times(zone, cand, demand, cutoff_s=600).to_problem(demand.weight), p=14, radius=600)

Stages (one direction): ``routing`` (zone packs, road network, travel times, routes, audit) ->
``demand`` (demand points) -> ``coverage`` (metrics, placement models, queueing) -> ``scenarios``
(scenario files, runner, studies) -> ``report`` (writers). Names are loaded on first use, so
``import kazerne`` stays light.
"""

__version__ = "0.5.0"

#: public name -> (module, attribute)
_EXPORTS = {
    # zone and network
    "load_zone": ("kazerne.routing.zone", "load_zone"),
    "Zone": ("kazerne.routing.zone", "Zone"),
    "RoadNetwork": ("kazerne.routing.network", "RoadNetwork"),
    "get_profile": ("kazerne.routing.profiles", "get_profile"),
    "SpeedProfile": ("kazerne.routing.profiles", "SpeedProfile"),
    "route": ("kazerne.routing.routes", "route"),
    "Route": ("kazerne.routing.routes", "Route"),
    "audit": ("kazerne.routing.audit", "audit"),
    "isochrone_polygons": ("kazerne.routing.isochrones", "isochrone_polygons"),
    "drive_times": ("kazerne.routing.paths", "drive_times"),
    "NetworkChange": ("kazerne.routing.changes", "NetworkChange"),
    "apply_changes": ("kazerne.routing.match", "apply_changes"),
    # demand and sites
    "population_grid": ("kazerne.demand.points", "population_grid"),
    "demand_from_file": ("kazerne.demand.points", "demand_from_file"),
    "DemandPoints": ("kazerne.demand.points", "DemandPoints"),
    "gap_shadow": ("kazerne.demand.shadow", "gap_shadow"),
    "Sites": ("kazerne.sites", "Sites"),
    # the seam
    "travel_times": ("kazerne.routing.travel", "travel_times"),
    "TravelTimes": ("kazerne.routing.travel", "TravelTimes"),
    "evaluate": ("kazerne.coverage.metrics", "evaluate_travel_times"),
    "CoverageReport": ("kazerne.coverage.metrics", "CoverageReport"),
    "from_cost_matrix": ("kazerne.coverage.problem", "from_cost_matrix"),
    "Problem": ("kazerne.coverage.problem", "Problem"),
    "SolveResult": ("kazerne.coverage.result", "SolveResult"),
    # vehicles, adequate responses, full first turnout, neighbouring zones' posts
    "VehicleType": ("kazerne.coverage.fleet", "VehicleType"),
    "Fleet": ("kazerne.coverage.fleet", "Fleet"),
    "FleetReport": ("kazerne.coverage.fleet", "FleetReport"),
    "DEFAULT_VEHICLE_TYPES": ("kazerne.coverage.fleet", "DEFAULT_VEHICLE_TYPES"),
    "vehicle_profile": ("kazerne.coverage.fleet", "vehicle_profile"),
    "fleet_times": ("kazerne.coverage.fleet", "fleet_times"),
    "evaluate_fleet": ("kazerne.coverage.fleet", "evaluate_fleet"),
    "arrival_time": ("kazerne.coverage.fleet", "arrival_time"),
    "placement_costs": ("kazerne.coverage.fleet", "placement_costs"),
    # response time from the 112 call: the clock (call handling, turnout), distributions, time slices
    "Clock": ("kazerne.clock", "Clock"),
    "TurnoutDist": ("kazerne.clock", "TurnoutDist"),
    "TimeSlice": ("kazerne.response", "TimeSlice"),
    "ResponseReport": ("kazerne.response", "ResponseReport"),
    "arrival_probability": ("kazerne.response", "arrival_probability"),
    "expected_response": ("kazerne.response", "expected_response"),
    "evaluate_response": ("kazerne.response", "evaluate_response"),
    "mix_reports": ("kazerne.response", "mix_reports"),
    "check_week": ("kazerne.response", "check_week"),
    "time_definition": ("kazerne.clock", "time_definition"),
    "DEFAULT_TURNOUT_DIST": ("kazerne.clock", "DEFAULT_TURNOUT_DIST"),
    "DEFAULT_TURNOUT_S": ("kazerne.clock", "DEFAULT_TURNOUT_S"),
    "DEFAULT_CALL_HANDLING_S": ("kazerne.clock", "DEFAULT_CALL_HANDLING_S"),
    # calibration on dispatch records
    "read_records": ("kazerne.calibration.records", "read_records"),
    "Records": ("kazerne.calibration.records", "Records"),
    "calibrate": ("kazerne.calibration.fit", "calibrate"),
    "Calibration": ("kazerne.calibration.fit", "Calibration"),
    "synthetic_records": ("kazerne.calibration.synthetic", "synthetic_records"),
    "Truth": ("kazerne.calibration.synthetic", "Truth"),
    "validate": ("kazerne.calibration.validate", "validate"),
    "FactorProfile": ("kazerne.routing.profiles", "FactorProfile"),
    # unit checks
    "UnitsWarning": ("kazerne.units", "UnitsWarning"),
    # models
    "lscp": ("kazerne.coverage.covering", "lscp"),
    "mclp": ("kazerne.coverage.mclp", "mclp"),
    "pmedian": ("kazerne.coverage.median", "pmedian"),
    "pcenter": ("kazerne.coverage.median", "pcenter"),
    "backup": ("kazerne.coverage.covering", "backup"),
    "mexclp": ("kazerne.coverage.ems", "mexclp"),
    "malp": ("kazerne.coverage.ems", "malp"),
    "malp2": ("kazerne.coverage.ems", "malp2"),
    "dsm": ("kazerne.coverage.ems", "dsm"),
    # road changes: their effect, the segments the zone cannot lose
    "measure_effect": ("kazerne.coverage.effect", "measure_effect"),
    "criticality": ("kazerne.coverage.criticality", "criticality"),
    "segment_losses": ("kazerne.coverage.criticality", "segment_losses"),
    # queueing (hypercube)
    "hypercube_exact": ("kazerne.coverage.queueing", "hypercube_exact"),
    "hypercube_approx": ("kazerne.coverage.queueing", "hypercube_approx"),
    "unit_busy_fractions": ("kazerne.coverage.queueing", "unit_busy_fractions"),
    "system_busy_fraction": ("kazerne.coverage.queueing", "system_busy_fraction"),
    "erlang_b": ("kazerne.coverage.queueing", "erlang_b"),
    "erlang_c": ("kazerne.coverage.queueing", "erlang_c"),
    # dispatch simulation (calls, missions, transport, way back; replications with intervals)
    "simulate": ("kazerne.coverage.simulation", "simulate"),
    "replay": ("kazerne.coverage.simulation", "replay"),
    "CallModel": ("kazerne.coverage.simulation", "CallModel"),
    "Priority": ("kazerne.coverage.simulation", "Priority"),
    "EmsSystem": ("kazerne.coverage.simulation", "EmsSystem"),
    "SimResult": ("kazerne.coverage.simulation", "SimResult"),
    "ems_system": ("kazerne.coverage.simbuild", "ems_system"),
    "pack_units": ("kazerne.coverage.simbuild", "pack_units"),
    "emergency_departments": ("kazerne.coverage.simbuild", "emergency_departments"),
    "located_sites": ("kazerne.coverage.simbuild", "located_sites"),
    "hypercube_figures": ("kazerne.coverage.simcompare", "hypercube_figures"),
    # errors
    "KazerneError": ("kazerne.errors", "KazerneError"),
    "ScenarioError": ("kazerne.errors", "ScenarioError"),
    "ModelInputError": ("kazerne.errors", "ModelInputError"),
    "InfeasibleError": ("kazerne.errors", "InfeasibleError"),
    "SnapError": ("kazerne.errors", "SnapError"),
    "ZonePackError": ("kazerne.errors", "ZonePackError"),
    # scenario files
    "run_scenario": ("kazerne.scenarios.runner", "run_file"),
    "parse_scenario": ("kazerne.scenarios.schema", "parse_scenario"),
    "solve_study": ("kazerne.scenarios.studies", "solve_study"),
    "STUDIES": ("kazerne.scenarios.studies", "STUDIES"),
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        mod, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kazerne' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
