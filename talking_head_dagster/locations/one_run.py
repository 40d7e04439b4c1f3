"""What the served location builds, importable without building it (it refuses to load without a server)."""

import dagster as dg

from talking_head_dagster.definitions import build_definitions
from talking_head_dagster.locations import load_settings
from talking_head_dagster.settings import Settings

NEEDS_SERVER = (
    "The served location renders every avatar on the avatar server: set TALKING_HEAD_AVATAR__FLASHHEAD__SERVER_URL "
    "(e.g. http://avatar-server:8765), or load talking_head_dagster.locations.cpu and .gpu instead."
)


def build_served_definitions(settings: Settings | None = None) -> dg.Definitions:
    """The single location's definitions (one ``render_record`` run per row), once the avatar server is set."""
    settings = load_settings(settings)
    if not settings.avatar.flashhead.server_url or settings.avatar.backend == "lite":
        raise dg.DagsterInvalidDefinitionError(NEEDS_SERVER)
    return build_definitions(settings)
