"""``talking-head submit``: one record through the running Dagster instance, followed to its URL.

Unlike ``render`` (in this process), the run is launched over the webserver's GraphQL API, so it
is queued and started by the daemon through the deployment's run launcher, on whichever machine
that puts it; in the two-location deployment the stage sensors carry it on to the GPU location and
back. The command follows every run of the record's partition and shows each stage as it goes.
"""

import time
from dataclasses import dataclass, field

import dagster as dg
from dagster_graphql import DagsterGraphQLClient
from rich.console import Console

from talking_head_dagster.assets.stage import RECORD_ASSET, snapshot
from talking_head_dagster.jobs import RENDER_RECORD_JOB
from talking_head_dagster.locations import PREPARE_JOB
from talking_head_dagster.partitions import LOCAL_TABLE, RecordKey, records
from talking_head_dagster.records import Record, record_version, row_record
from talking_head_dagster.sensors.run_history import PARTITION_TAG, VERSION_TAG
from talking_head_dagster.settings import Settings

STAGES = ["source_video", "tts_audio", "avatar_video", "composite", "public_url", "nocodb_sync"]
# The job that starts a record: the single location's whole job, or the two-location deployment's first.
FIRST_JOBS = (RENDER_RECORD_JOB, PREPARE_JOB)
SUBMITTED_TAG = "talking_head/submitted"
# A failed run is final once no retry (dagster.yaml run_retries) has followed it for this long.
FAILURE_GRACE_S = 45.0

WORKSPACE = """
query { workspaceOrError { __typename ... on Workspace { locationEntries { name locationOrLoadError {
  __typename ... on RepositoryLocation { name repositories { name jobs { name } } } } } } } }
"""
ADD_PARTITION = """
mutation($repo: RepositorySelector!, $partitions: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $repo, partitionsDefName: $partitions, partitionKey: $key) {
    __typename ... on PythonError { message } ... on UnauthorizedError { message } } }
"""
RUNS = """
query($key: String!, $after: Float!) {
  runsOrError(filter: {tags: [{key: "dagster/partition", value: $key}], createdAfter: $after}) {
    __typename ... on Runs { results { runId jobName status repositoryOrigin { repositoryLocationName }
      stepStats { stepKey status startTime endTime } } } } }
"""
PUBLICATION = """
query($key: String!) { assetOrError(assetKey: {path: ["public_url"]}) { __typename ... on Asset {
  assetMaterializations(partitions: [$key], limit: 1) { runId metadataEntries { label
    ... on UrlMetadataEntry { url } ... on TextMetadataEntry { text } } } } } }
"""


class SubmitFailed(Exception):
    """The record could not be launched, or a stage failed (the message says which and why)."""


@dataclass
class Progress:
    """What the record's runs have done so far, stage by stage."""

    stages: dict[str, str] = field(default_factory=lambda: dict.fromkeys(STAGES, "waiting"))
    seconds: dict[str, float] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)  # run id -> status

    def update(self, runs: list[dict]) -> list[str]:
        """Fold in the runs' step stats; return a line for each stage that changed."""
        changes = []
        for run in sorted(runs, key=lambda r: min((s["startTime"] or 0) for s in r["stepStats"] or [{"startTime": 0}])):
            self.runs[run["runId"]] = run["status"]
            location = run["repositoryOrigin"]["repositoryLocationName"]
            for step in run["stepStats"] or []:
                state = {"IN_PROGRESS": "running", "SUCCESS": "done", "FAILURE": "failed"}.get(step["status"], "")
                if step["stepKey"] not in self.stages or not state or self.stages[step["stepKey"]] == state:
                    continue
                self.stages[step["stepKey"]] = state
                took = ""
                if state == "done" and step["startTime"] and step["endTime"]:
                    self.seconds[step["stepKey"]] = step["endTime"] - step["startTime"]
                    took = f" in {self.seconds[step['stepKey']]:.1f} s"
                number = STAGES.index(step["stepKey"]) + 1
                changes.append(f"[{number}/6] {step['stepKey']}: {state}{took} ({location}, run {run['runId'][:8]})")
        return changes

    @property
    def in_flight(self) -> bool:
        return any(
            status in ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING") for status in self.runs.values()
        )

    @property
    def current(self) -> str:
        return next((stage for stage in STAGES if self.stages[stage] != "done"), "")


@dataclass(frozen=True)
class Submitted:
    key: str
    url: str
    stage_seconds: dict[str, float]


def submit(
    *,
    table: str | None = None,
    row: int | None = None,
    url: str | None = None,
    text: str | None = None,
    voice: str | None = None,
    webserver: str = "http://127.0.0.1:3000",
    settings: Settings | None = None,
    console: Console | None = None,
    poll_s: float = 2.0,
    timeout_s: float = 3600.0,
) -> Submitted:
    """Launch one record through the instance and follow it to the end.

    Steps: 1. the record and its version (the row read from NocoDB, or a one-off record saved to
    the artifact store, which the runs must reach too); 2. the location whose job starts a record;
    3. the partition and the run, over GraphQL; 4. follow the partition's runs until nocodb_sync is
    done (or public_url, for a one-off record), or a stage failed with no retry coming; 5. the URL.
    """
    settings = settings or Settings()
    console = console or Console(stderr=True)
    client = _client(webserver)
    key, version = _record(settings, table, row, url, text, voice)
    location, repository, job = _first_job(client)
    repo = {"repositoryLocationName": location, "repositoryName": repository}
    added = client._execute(ADD_PARTITION, {"repo": repo, "partitions": records.name, "key": key})[
        "addDynamicPartition"
    ]
    if added["__typename"] not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
        raise SubmitFailed(f"Could not add partition {key}: {added.get('message', added['__typename'])}")
    started = time.time()
    run_id = client.submit_job_execution(
        job, repository_location_name=location, repository_name=repository,
        tags={PARTITION_TAG: key, VERSION_TAG: version, SUBMITTED_TAG: "cli"},
    )  # fmt: skip
    console.print(f"[bold]Submitted record {key}[/bold]: run {run_id} of {job} in {location}")
    last = "nocodb_sync" if not RecordKey.parse(key).is_local else "public_url"
    progress = _follow(client, key, started - 1, last, console, poll_s, timeout_s)
    return Submitted(key=key, url=_published_url(client, key), stage_seconds=progress.seconds)


def _client(webserver: str) -> DagsterGraphQLClient:
    scheme, _, rest = webserver.partition("://")
    host, _, port = rest.rstrip("/").partition(":")
    return DagsterGraphQLClient(host, port_number=int(port) if port else None, use_https=scheme == "https")


def _record(settings, table, row, url, text, voice) -> tuple[str, str]:
    """The partition key and version of the record to submit (steps 1)."""
    from talking_head_dagster.resources.factory import build_resources

    resources = build_resources(settings)
    if table is not None and row is not None:
        key = str(RecordKey(table, str(row)))
        with dg.build_resources({"nocodb": resources["nocodb"]}) as built:
            if not built.nocodb.configured:
                raise SubmitFailed("NocoDB is not configured here (TALKING_HEAD_NOCODB__URL, __API_TOKEN, __TABLES).")
            record = row_record(key, built.nocodb.get_row(table, row), built.nocodb.table(table))
        return key, record.version
    version = record_version(url or "", text or "")
    record = Record(key=f"{LOCAL_TABLE}-{version}", url=url or "", content=text or "", voice=voice)
    with dg.build_resources({"artifacts": resources["artifacts"]}) as built:
        staging = built.artifacts.staging_dir(record.key, RECORD_ASSET)
        built.artifacts.commit(record.key, RECORD_ASSET, staging, snapshot(record))
    return record.key, version


def _first_job(client: DagsterGraphQLClient) -> tuple[str, str, str]:
    """(location, repository, job) of the job that starts a record in this deployment."""
    workspace = client._execute(WORKSPACE)["workspaceOrError"]
    for entry in workspace.get("locationEntries", []):
        location = entry["locationOrLoadError"] or {}
        for repository in location.get("repositories", []):
            for job in repository["jobs"]:
                if job["name"] in FIRST_JOBS:
                    return location["name"], repository["name"], job["name"]
    raise SubmitFailed(f"No code location of this deployment has a job {' or '.join(FIRST_JOBS)}.")


def _follow(client, key: str, after: float, last: str, console: Console, poll_s: float, timeout_s: float) -> Progress:
    """Poll the partition's runs, print each stage's change, until ``last`` is done or a stage failed for good."""
    progress, failed_since = Progress(), None
    deadline = time.monotonic() + timeout_s
    with console.status("waiting for the daemon to start the run") as status:
        while time.monotonic() < deadline:
            runs = client._execute(RUNS, {"key": key, "after": after})["runsOrError"].get("results", [])
            for line in progress.update(runs):
                console.print(f"  {line}")
            if progress.stages[last] == "done":
                return progress
            failure = "failed" in progress.stages.values() or "FAILURE" in progress.runs.values()
            if failure and not progress.in_flight:
                failed_since = failed_since or time.monotonic()
                if time.monotonic() - failed_since > FAILURE_GRACE_S:
                    stage = next((s for s in STAGES if progress.stages[s] == "failed"), "a run")
                    raise SubmitFailed(f"{stage} failed for {key} (the row's error column, or the run's logs, say why)")
            else:
                failed_since = None
            status.update(f"{progress.current or 'finishing'} ..." if progress.in_flight else "between runs ...")
            time.sleep(poll_s)
    raise SubmitFailed(f"{key} did not finish within {timeout_s:.0f} s; it goes on in the deployment.")


def _published_url(client, key: str) -> str:
    asset = client._execute(PUBLICATION, {"key": key})["assetOrError"]
    for materialization in asset.get("assetMaterializations", []):
        for entry in materialization["metadataEntries"]:
            if entry["label"] == "url":
                return entry.get("url") or entry.get("text") or ""
    raise SubmitFailed(f"public_url of {key} has no URL.")
