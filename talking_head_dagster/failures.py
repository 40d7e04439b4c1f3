"""What a failed step says to a user: its reason, and which kind of trouble it is.

The reason is the stage's own message, not Dagster's wrapper around it; a temporary error that
outlasted its retries keeps its last attempt's reason (Dagster only says "Exceeded max_retries").
"""

import re
from dataclasses import dataclass
from enum import StrEnum

import dagster as dg

from talking_head_dagster import errors


class Kind(StrEnum):
    INPUT = "input"  # the row's (or the portrait's) to fix
    DEPLOYMENT = "deployment"  # the operator's to fix
    TEMPORARY = "temporary"  # a service stayed unavailable through every retry
    CHECK = "check"  # the video failed a quality check, so it was not published
    UNEXPECTED = "unexpected"  # a bug, or something nobody foresaw


# The ``error_class`` a stage's Failure carries (assets/stage.py), as a kind.
_FAILURE_CLASSES = {"permanent": Kind.INPUT, "deployment": Kind.DEPLOYMENT}
_CHECK_FAILED = "DagsterAssetCheckFailedError"


@dataclass(frozen=True)
class StepFailure:
    stage: str
    reason: str
    kind: Kind


def step_failure(event: dg.DagsterEvent) -> StepFailure:
    """The stage, reason and kind of a STEP_FAILURE event."""
    data = event.step_failure_data
    stage = event.step_key or "run"
    if data is None or data.error is None:
        return StepFailure(stage, "unknown failure (see the run's logs)", Kind.UNEXPECTED)
    user = data.user_failure_data
    if user and user.description:
        error_class = user.metadata.get("error_class") if user.metadata else None
        error_class = getattr(error_class, "value", error_class)
        return StepFailure(stage, user.description, _FAILURE_CLASSES.get(str(error_class), Kind.UNEXPECTED))
    error = data.error
    if error.cls_name == _CHECK_FAILED:
        return StepFailure(stage, error.message.strip(), Kind.CHECK)
    retried = error.message.startswith("Exceeded max_retries")
    while error.cause and (retried or error.cls_name == "DagsterExecutionStepExecutionError"):
        if _is_ours(error.cls_name):
            break
        error = error.cause
    reason = error.message.strip()
    if _is_ours(error.cls_name) and issubclass(getattr(errors, error.cls_name), errors.TransientError):
        retries = data.error.message.split()[-1] if retried else ""
        suffix = f" (still failing after {retries} retries)" if retried else ""
        return StepFailure(stage, _strip_class(reason, error.cls_name) + suffix, Kind.TEMPORARY)
    return StepFailure(stage, _strip_class(reason, error.cls_name), Kind.UNEXPECTED)


def check_reason(evaluation: dg.AssetCheckEvaluation) -> str | None:
    """What a failed blocking check says (its own description), or None when it passed or only warns."""
    if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
        return None
    return evaluation.description or f"the check {evaluation.check_name} failed"


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """The run's failed blocking checks in their own words (not Dagster's "1 blocking asset check failed")."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    evaluations = [record.event_log_entry.dagster_event.event_specific_data for record in records]
    reasons = [reason for evaluation in evaluations if (reason := check_reason(evaluation))]
    return "; ".join(reasons) or None


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The first failed step's reason, for a run executed in process."""
    for event in result.all_events:
        if event.is_step_failure:
            return step_failure(event).reason
    return "unknown failure (see the run's logs)"


def _is_ours(cls_name: str) -> bool:
    found = getattr(errors, cls_name, None)
    return isinstance(found, type) and issubclass(found, errors.TalkingHeadError)


def _strip_class(message: str, cls_name: str) -> str:
    """Serialized errors read ``[module.]ClassName: message``; users need the message."""
    return re.sub(rf"^([\w.]+\.)?{re.escape(cls_name)}: ", "", message).strip()


def kind_of(exc: BaseException) -> Kind:
    """The kind of an error raised outside a run (reading the row, building the deployment)."""
    if isinstance(exc, errors.PermanentInputError):
        return Kind.INPUT
    if isinstance(exc, errors.DeploymentError):
        return Kind.DEPLOYMENT
    if isinstance(exc, errors.TransientError):
        return Kind.TEMPORARY
    return Kind.UNEXPECTED
