"""A source site that fails for real (HTTP errors, a reset connection, a slow drip), each in one real job run.

Every row's ``source_video`` runs in a job with the transient retry policy against the loopback
media server's failing routes (tests/support/hostile_server.py). What each row ends with is read
back from the instance's event log: the error class, the message a user sees, and how many times
Dagster retried the step.
"""

import collections
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from talking_head_dagster import errors
from talking_head_dagster.failures import step_failure
from talking_head_dagster.resources.downloader import VideoDownloader
from talking_head_dagster.retry import retries_within
from talking_head_dagster.settings import RetrySettings
from tests.support.hostile_server import host_port, serve_hostile
from tests.support.source_stage import materialize_source
from tests.support.stage_job import logged

RETRY = RetrySettings(base_delay_s=0.1, max_total_s=1.0)
# The drip's time limit; the other rows get a minute, so a slow machine cannot make them time out.
TIME_LIMIT_S = 5.0
TRANSIENT_RETRIES = retries_within(RETRY.base_delay_s, RETRY.max_total_s)

# The route, the error class the row fails with, and what its message says.
FAILURES = [
    ("status/401/clip.mp4", errors.PermanentInputError, "The source site refused access to"),
    ("status/403/clip.mp4", errors.PermanentInputError, "The source site refused access to"),
    ("status/404/clip.mp4", errors.SourceNotFoundError, "answers 'not found'"),
    ("status/410/clip.mp4", errors.SourceNotFoundError, "answers 'not found'"),
    ("status/418/clip.mp4", errors.PermanentInputError, "refused the download (HTTP 418)"),
    ("status/429/clip.mp4", errors.SourceBlockedError, "rate-limited us (HTTP 429)"),
    ("status/500/clip.mp4", errors.SourceUnavailableError, "answered HTTP 500"),
    ("status/503/clip.mp4", errors.SourceUnavailableError, "answered HTTP 503"),
    ("reset/clip.mp4", errors.SourceUnavailableError, "broke off the connection"),
    ("drip/clip.mp4", errors.SourceTooLargeError, f"took longer than {TIME_LIMIT_S:.0f} s"),
]


@pytest.fixture(scope="module")
def failing_site(media_dir: Path) -> Iterator[tuple[str, collections.Counter[str]]]:
    """The media server's failing routes, with a count of the requests each path received."""
    served: collections.Counter[str] = collections.Counter()
    with serve_hostile(media_dir, served) as base_url:
        yield base_url, served


@pytest.fixture(scope="module")
def instance() -> Iterator[dg.DagsterInstance]:
    """One instance for the module's runs (each test reads its own run's events)."""
    with dg.instance_for_test() as shared:
        yield shared


def _error_class(failure: dg.DagsterEvent) -> str:
    """The class of the error the stage raised: a Failure's ``error_type``, or the first of ours in the chain."""
    data = failure.step_failure_data
    if data.user_failure_data and data.user_failure_data.metadata:
        return data.user_failure_data.metadata["error_type"].value
    error = data.error
    while error is not None and not hasattr(errors, error.cls_name):
        error = error.cause
    assert error is not None, data.error.to_string()
    return error.cls_name


@pytest.mark.parametrize(("route", "error", "message"), FAILURES, ids=[route for route, _, _ in FAILURES])
def test_a_failing_source_site_fails_the_row_with_its_kind_and_retries(
    failing_site, instance: dg.DagsterInstance, tmp_path: Path, route: str, error: type, message: str
) -> None:
    base_url, served = failing_site
    limit = TIME_LIMIT_S if route.startswith("drip") else 60.0
    downloader = VideoDownloader(allowed_hosts=[host_port(base_url)], max_bytes=2_000_000, timeout_s=limit)
    url = f"{base_url}/{route}"
    _, result = materialize_source(tmp_path, downloader, url, RETRY, instance, script="A fine script.")
    assert not result.success

    # What the event log holds for this run: one failure, after as many retries as the kind calls for.
    [failure] = logged(instance, result.run_id, dg.DagsterEventType.STEP_FAILURE)
    retries = len(logged(instance, result.run_id, dg.DagsterEventType.STEP_UP_FOR_RETRY))
    transient = issubclass(error, errors.TransientError)
    assert _error_class(failure) == error.__name__
    assert retries == (TRANSIENT_RETRIES if transient else 0)
    assert served[f"/{route}"] >= 1 + retries  # every attempt reached the site
    reason = step_failure(failure).reason
    assert (message in reason and url in reason) or route.startswith("drip"), reason
    assert "Traceback" not in reason and "\n" not in reason
    if transient:
        assert reason.endswith(f"(still failing after {TRANSIENT_RETRIES} retries)")
