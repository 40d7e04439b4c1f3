"""What a run process pays before its first step: imports, Definitions, resources; lazy against eager imports.

Every run of the embedded shape is a new Python process (``dagster api execute_run``) that imports
Dagster, loads the code location (importing the project builds its Definitions) and sets up the
job's resources before the first step starts. Each fresh interpreter here does the same, timing:
1. ``import dagster`` and the run worker's CLI module;
2. the code location's import (``talking_head_dagster.definitions``, which builds the Definitions);
3. building the Definitions once more (their own cost, without imports);
4. loading the instance from a ``$DAGSTER_HOME`` with the repository's dagster.yaml (SQLite
   storage, made once before the timed interpreters, as a run finds it);
5. setting up every resource of the location (``dg.build_resources``).
It alternates two variants, ``--repeat`` times each: ``lazy`` (the code as it is) and ``eager``
(the stage-only modules imported first, as module-level imports did before they moved into the
stages that use them). Timing on a shared machine is noisy, so it also reports what does not vary
with load: the number of modules loaded, and, with ``--instructions``, the instructions executed
(valgrind's callgrind) to import Dagster alone, and Dagster plus the code location in each variant
(about 10 minutes on two cores). The ``-X importtime`` self times by package family are times again.

    .venv/bin/python benchmarks/run_startup.py [--repeat 5] [--instructions] [--smoke]
    # --smoke: one interpreter of each variant; instructions of an empty program only
"""

import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

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
instance = dg.DagsterInstance.from_config({home!r})
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
    parser.add_argument("--instructions", action="store_true", help="count instructions under callgrind (slow)")
    args = parser.parse_args()
    if args.smoke:
        args.repeat = 1
    home = Path(tempfile.mkdtemp(prefix="run-startup-"))
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    probe([], home)  # makes the instance's SQLite storage, as the first run of an install finds it made
    runs: dict[str, list[dict]] = {"lazy": [], "eager": []}
    for _ in range(args.repeat):
        for variant in runs:  # alternated, so both meet the same load
            runs[variant].append(probe(STAGE_ONLY if variant == "eager" else [], home))
    shutil.rmtree(home)
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
    if args.instructions or args.smoke:
        report["instructions"] = instruction_counts(smoke=args.smoke)
    write_report(args, report)
    return 0


def instruction_counts(smoke: bool) -> dict:
    """Instructions (callgrind's Ir, in millions) to import Dagster, then Dagster and the location, per variant."""
    if shutil.which("valgrind") is None:
        return {"skipped": "valgrind is not installed"}
    if smoke:
        return {"empty_program_M": instructions("pass")}
    location = "import dagster, dagster._cli.api\n{eager}import talking_head_dagster.definitions"
    counts = {
        "import_dagster_M": instructions("import dagster, dagster._cli.api"),
        "lazy_M": instructions(location.format(eager="")),
        "eager_M": instructions(location.format(eager=f"for name in {STAGE_ONLY!r}: __import__(name)\n")),
    }
    lazy, eager = (counts[key] - counts["import_dagster_M"] for key in ("lazy_M", "eager_M"))
    return counts | {
        "location_lazy_over_eager": round(lazy / eager, 3),
        "total_lazy_over_eager": round(counts["lazy_M"] / counts["eager_M"], 3),
    }


def instructions(code: str) -> int:
    """Millions of instructions a fresh interpreter executes running ``code`` (valgrind's callgrind)."""
    with tempfile.TemporaryDirectory() as scratch:
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/callgrind.out"]
        result = subprocess.run(
            [*command, sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
        )
    return round(int(re.search(r"Collected : (\d+)", result.stderr)[1]) / 1e6)


def probe(eager: list[str], home: Path) -> dict:
    """One fresh interpreter's timings, module count and ``-X importtime`` self times by family (ms)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PROBE.format(eager=eager, home=str(home))],
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
