"""What a run process pays before its first step: imports, Definitions, resources; lazy against eager imports.

Every run of the embedded shape is a new Python process (``dagster api execute_run``) that imports
Dagster, loads the code location (importing the project builds its Definitions) and sets up the
job's resources before the first step starts. Each fresh interpreter here does the same, timing:
1. ``import dagster`` and the run worker's CLI module;
2. the code location's import (``talking_head_dagster.definitions``, which builds the Definitions);
3. building the Definitions once more (their own cost, without imports);
4. an instance (ephemeral here; a run loads ``$DAGSTER_HOME``'s, with the same storage modules);
5. setting up every resource of the location (``dg.build_resources``).
It alternates two variants, ``--repeat`` times each: ``lazy`` (the code as it is) and ``eager``
(the stage-only modules imported first, as module-level imports did before they moved into the
stages that use them). Timing on a shared machine is noisy, so it also reports what does not vary:
the number of modules loaded, and the sum of ``-X importtime`` self times by package family.

    .venv/bin/python benchmarks/run_startup.py [--repeat 5] [--smoke]   # --smoke: one of each
"""

import json
import re
import statistics
import subprocess
import sys
from collections import Counter

from harness import REPO, arguments, write_report

# Loaded by one stage each (or by none in these deployments); what the eager variant imports first.
STAGE_ONLY = ["boto3", "botocore.config", "yt_dlp", "cv2", "numpy", "zh_normalization.num"]
FAMILIES = {
    "dagster": ("dagster", "dagster_shared", "dagster_pipes", "dagster_graphql"),
    "stage-only": (
        *("boto3", "botocore", "s3transfer", "yt_dlp", "websockets"),
        *("cv2", "numpy", "zh_normalization", "pypinyin"),
    ),
    "project": ("talking_head_dagster",),
}
PROBE = """
import json, sys, time
marks = [time.perf_counter()]
import dagster as dg, dagster._cli.api
marks.append(time.perf_counter())
for name in {eager!r}:
    __import__(name)
import talking_head_dagster.definitions as location
marks.append(time.perf_counter())
defs = location.build_definitions()
marks.append(time.perf_counter())
instance = dg.DagsterInstance.ephemeral()
marks.append(time.perf_counter())
with dg.build_resources(defs.resources, instance=instance) as resources:
    marks.append(time.perf_counter())
steps = ["import_dagster_s", "import_location_s", "build_definitions_s", "instance_s", "resource_setup_s"]
report = {{step: round(b - a, 3) for step, a, b in zip(steps, marks, marks[1:])}}
report["modules"] = len(sys.modules)
print(json.dumps(report))
"""


def main() -> int:
    parser = arguments(__doc__, "run_startup")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.smoke:
        args.repeat = 1
    runs: dict[str, list[dict]] = {"lazy": [], "eager": []}
    for _ in range(args.repeat):
        for variant in runs:  # alternated, so both meet the same load
            runs[variant].append(probe(STAGE_ONLY if variant == "eager" else []))
    report: dict = {"stage_only_modules": STAGE_ONLY, "repeat": args.repeat}
    for variant, samples in runs.items():
        figures = [key for key in samples[0] if key != "importtime_self_ms"]
        report[variant] = {key: statistics.median(sample[key] for sample in samples) for key in figures}
        report[variant]["total_s"] = round(sum(v for k, v in report[variant].items() if k.endswith("_s")), 3)
        by_total = sorted((sample["importtime_self_ms"] for sample in samples), key=lambda t: sum(t.values()))
        report[variant]["importtime_self_ms"] = by_total[(len(by_total) - 1) // 2]  # the median sample's
    lazy, eager = report["lazy"], report["eager"]
    report["lazy_over_eager"] = {
        "import_location": round(lazy["import_location_s"] / eager["import_location_s"], 3),
        "total": round(lazy["total_s"] / eager["total_s"], 3),
        "modules": round(lazy["modules"] / eager["modules"], 3),
        "importtime_self": round(
            sum(lazy["importtime_self_ms"].values()) / sum(eager["importtime_self_ms"].values()), 3
        ),
    }
    write_report(args, report)
    return 0


def probe(eager: list[str]) -> dict:
    """One fresh interpreter's timings, module count and ``-X importtime`` self times by family (ms)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PROBE.format(eager=eager)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    sample = json.loads(result.stdout.strip().splitlines()[-1])
    sample["importtime_self_ms"] = self_times(result.stderr)
    return sample


def self_times(importtime: str) -> dict[str, float]:
    """``-X importtime`` self times summed by package family, in milliseconds."""
    totals: Counter[str] = Counter()
    for match in re.finditer(r"^import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", importtime, re.M):
        top = match[2].split(".")[0]
        family = next((name for name, tops in FAMILIES.items() if top in tops), "other")
        totals[family] += int(match[1]) / 1000
    return {family: round(ms) for family, ms in sorted(totals.items())}


if __name__ == "__main__":
    sys.exit(main())
