"""What every benchmark shares: its ``--smoke`` and ``--out`` arguments and its JSON report.

A script imports this module by its plain name (a script's own folder is first on ``sys.path``)::

    from harness import arguments, write_report

    args = arguments(__doc__, "pipeline_stages").parse_args()
    ...
    write_report(args, {"figure": 1.0})

The report is written as JSON under ``args.out`` (``benchmarks/out/<name>/`` by default, which git
ignores) with the time, the machine's load average and core count, so figures taken on different
days can be set side by side with the load they were taken under.
"""

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
REPO = OUT.parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(1, str(REPO))  # tests.support and tests.services, which several benchmarks reuse


def arguments(doc: str | None, name: str) -> argparse.ArgumentParser:
    """A parser with ``--smoke`` and ``--out`` (default ``benchmarks/out/<name>``); add the script's own."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a few seconds of input through the whole code path (what the tests run); the figures mean nothing",
    )
    parser.add_argument("--out", type=Path, default=OUT / name, help=f"the report's folder (default {OUT / name})")
    return parser


def write_report(args: argparse.Namespace, report: dict, name: str = "report.json") -> Path:
    """``report`` as JSON in ``args.out/name``, after when, under what load and whether a smoke run; the path."""
    stamped = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "smoke": args.smoke,
        **report,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / name
    path.write_text(json.dumps(stamped, indent=2, default=str))
    print(json.dumps(stamped, indent=2, default=str))
    print(f"written: {path}", flush=True)
    return path
