"""kazerne: where a fire and rescue zone's posts and paramedic teams should stand.

Stages (one direction): ``routing`` (zone packs, road network, travel times) ->
``demand`` (demand points) -> ``coverage`` (metrics and placement models) ->
``scenarios`` (scenario files, runner, studies) -> ``report`` (writers).
"""

__version__ = "0.1.0"
