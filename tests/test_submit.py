"""`talking-head submit` following a record: progress per stage, a failed record, a retry that
follows a failure, a timeout (over scripted GraphQL answers: tests/deploy/test_submit.py runs it
against a real webserver and daemon), and a NocoDB row submitted as the sensor would run it."""

import io
import uuid
from pathlib import Path

import pytest
from rich.console import Console

from talking_head_dagster import submit
from talking_head_dagster.sensors.run_history import VERSION_TAG
from tests.services import nocodb
from tests.support.deployment import deploy, deployment_settings, tick

KEY = "local-abc"


class ScriptedGraphQL:
    """Answers the runs query with one frame (a list of runs) per poll, the last one for ever after."""

    def __init__(self, *frames: list[dict]) -> None:
        self.frames, self.polls = list(frames), 0

    def _execute(self, query: str, variables: dict) -> dict:
        assert variables["key"] == KEY
        frame = self.frames[min(self.polls, len(self.frames) - 1)]
        self.polls += 1
        return {"runsOrError": {"__typename": "Runs", "results": frame}}


def _run(run_id: str, status: str, steps: dict[str, tuple[str, float | None, float | None]]) -> dict:
    return {
        "runId": run_id,
        "jobName": "render_record",
        "status": status,
        "repositoryOrigin": {"repositoryLocationName": "talking_head_dagster"},
        "stepStats": [
            {"stepKey": step, "status": state, "startTime": start, "endTime": end}
            for step, (state, start, end) in steps.items()
        ],
    }


def _follow(client: ScriptedGraphQL, timeout_s: float = 60.0) -> tuple[submit.Progress, str]:
    console = Console(file=io.StringIO(), width=200)
    try:
        progress = submit._follow(client, KEY, 0.0, "public_url", console, poll_s=0.0, timeout_s=timeout_s)
    finally:
        printed = console.file.getvalue()
    return progress, printed


def test_progress_shows_each_stage_once_as_it_runs_and_ends() -> None:
    done = {s: ("SUCCESS", 100.0 + 10 * i, 102.5 + 10 * i) for i, s in enumerate(submit.STAGES[:5])}
    client = ScriptedGraphQL(
        [_run("a" * 32, "QUEUED", {})],
        [_run("a" * 32, "STARTED", {"source_video": ("IN_PROGRESS", 100.0, None)})],
        [_run("a" * 32, "STARTED", {"source_video": ("IN_PROGRESS", 100.0, None)})],
        [_run("a" * 32, "SUCCESS", done)],
    )
    progress, printed = _follow(client)
    lines = [line.strip() for line in printed.splitlines()]
    assert lines == [
        "[1/6] source_video: running (talking_head_dagster, run aaaaaaaa)",
        "[1/6] source_video: done in 2.5 s (talking_head_dagster, run aaaaaaaa)",
        "[2/6] tts_audio: done in 2.5 s (talking_head_dagster, run aaaaaaaa)",
        "[3/6] avatar_video: done in 2.5 s (talking_head_dagster, run aaaaaaaa)",
        "[4/6] composite: done in 2.5 s (talking_head_dagster, run aaaaaaaa)",
        "[5/6] public_url: done in 2.5 s (talking_head_dagster, run aaaaaaaa)",
    ]
    assert progress.seconds == dict.fromkeys(submit.STAGES[:5], 2.5)
    assert client.polls == 4


def test_a_failed_record_with_no_retry_coming_fails_the_command_naming_its_stage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(submit, "FAILURE_GRACE_S", 0.0)
    client = ScriptedGraphQL([_run("b" * 32, "FAILURE", {"source_video": ("FAILURE", 100.0, 101.0)})])
    with pytest.raises(submit.SubmitFailed) as failed:
        _follow(client)
    assert str(failed.value) == (
        "source_video failed for local-abc (the row's error column, or the run's logs, say why)"
    )


def test_a_retry_that_follows_a_failed_run_is_followed_to_the_end() -> None:
    failed = _run("c" * 32, "FAILURE", {"source_video": ("FAILURE", 100.0, 101.0)})
    done = {s: ("SUCCESS", 102.0, 103.0) for s in submit.STAGES[:5]}
    client = ScriptedGraphQL([failed], [failed, _run("d" * 32, "SUCCESS", done)])
    progress, printed = _follow(client)
    assert progress.stages["public_url"] == "done"
    assert "[1/6] source_video: failed (talking_head_dagster, run cccccccc)" in printed
    assert "[1/6] source_video: done in 1.0 s (talking_head_dagster, run dddddddd)" in printed


def test_a_record_not_done_in_time_says_it_goes_on_in_the_deployment() -> None:
    client = ScriptedGraphQL([_run("e" * 32, "STARTED", {"source_video": ("IN_PROGRESS", 100.0, None)})])
    with pytest.raises(submit.SubmitFailed) as failed:
        _follow(client, timeout_s=0.5)
    assert str(failed.value) == "local-abc did not finish within 0 s; it goes on in the deployment."
    assert client.polls >= 1


@pytest.mark.integration
def test_a_nocodb_row_is_submitted_as_the_sensor_would_run_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance, nocodb_server, nocodb_table, s3_server, media_server
) -> None:
    table = nocodb_table("submit")
    [row_id] = nocodb.insert_rows(
        nocodb_server, table, [{"url": f"{media_server}/clip.mp4", "content": f"Submitted {uuid.uuid4().hex}."}]
    )
    settings = deployment_settings(tmp_path, nocodb_server, s3_server, [table], "unused")
    [request] = tick(deploy(monkeypatch, settings, nocodb_server, s3_server), instance).run_requests
    assert submit._record(settings, table, row_id, None, None, None) == (
        request.partition_key,
        request.tags[VERSION_TAG],
    )
