"""How long transient errors are retried: exponential backoff with jitter, within a bounded total wait.

Dagster waits ``(2**n - 1) * base ± base`` before retry ``n`` (``Backoff.EXPONENTIAL`` with
``Jitter.PLUS_MINUS``), so ``n`` retries wait at most ``(2**(n + 1) - 2) * base`` in all. The policy
takes as many retries as fit into ``max_total_s``, and at least one.
"""

import dagster as dg

from talking_head_dagster.settings import RetrySettings


def worst_case_wait(base_delay_s: float, retries: int) -> float:
    """The longest the waits before ``retries`` retries can add up to, jitter included."""
    return (2 ** (retries + 1) - 2) * base_delay_s


def retries_within(base_delay_s: float, max_total_s: float) -> int:
    retries = 1
    while worst_case_wait(base_delay_s, retries + 1) <= max_total_s:
        retries += 1
    return retries


def transient_retry_policy(settings: RetrySettings) -> dg.RetryPolicy:
    return dg.RetryPolicy(
        max_retries=retries_within(settings.base_delay_s, settings.max_total_s),
        delay=settings.base_delay_s,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )
