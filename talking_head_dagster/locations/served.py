"""The production location when the avatar server renders every avatar: one run renders a row.

With ``talking-head avatar-server`` on the GPU machine (README: Keeping the model loaded), the avatar
stage sends its speech and portrait over HTTP and needs no GPU itself, so a row gains nothing from
crossing to a GPU location: all six stages run in one ``render_record`` run on a CPU worker. That
saves two run start-ups and two hand-offs per row against ``cpu`` + ``gpu``
(``benchmarks/deployment_overhead.py --mode served``). avatar_video keeps its ``gpu`` pool, so the
queue still sends the server one render at a time.

Load it instead of both other locations (``deploy/compose.served.yaml``, ``deploy/workspace.served.yaml``).
"""

from talking_head_dagster.locations.one_run import build_served_definitions

defs = build_served_definitions()
