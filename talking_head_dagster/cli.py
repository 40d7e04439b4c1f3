"""``talking-head``: render one record in-process or submit it to the instance, the demo, or check this machine."""

import argparse
import os
import shutil
import sys
from pathlib import Path

from talking_head_dagster.media.style import LAYOUTS

REPO_DAGSTER_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml"


def _ensure_dagster_home() -> None:
    """Use $DAGSTER_HOME, or ./.dagster_home with the project's dagster.yaml, so runs show in the UI."""
    if os.environ.get("DAGSTER_HOME"):
        return
    home = Path(".dagster_home").resolve()
    home.mkdir(exist_ok=True)
    if REPO_DAGSTER_YAML.is_file() and not (home / "dagster.yaml").exists():
        shutil.copyfile(REPO_DAGSTER_YAML, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="talking-head", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    render = commands.add_parser("render", help="render one record in this process")
    render.add_argument("--table", help="NocoDB table id")
    render.add_argument("--row", type=int, help="NocoDB row id")
    render.add_argument("--url", help="source video URL (one-off render without NocoDB)")
    render.add_argument("--text", help="script to speak (one-off render without NocoDB)")
    render.add_argument("--voice", help="Piper voice name (one-off render)")
    render.add_argument("--layout", choices=LAYOUTS, help="avatar layout (one-off render); default: the deployment's")
    render.add_argument("--force", action="store_true", help="redo stages already materialised")
    render.add_argument(
        "--portrait",
        type=Path,
        help="portrait image of one face for this render (default: the table's, or the deployment's)",
    )

    demo = commands.add_parser("demo", help="render the embedded demo and print the MP4's path last")
    demo.add_argument("--text", help="script to speak instead of the demo's")

    commands.add_parser("setup", help="create the status and error columns the NocoDB tables are configured with")

    submit = commands.add_parser(
        "submit", help="launch one record through the running Dagster instance (its run launcher) and follow it"
    )
    submit.add_argument("--table", help="NocoDB table id")
    submit.add_argument("--row", type=int, help="NocoDB row id")
    submit.add_argument("--url", help="source video URL (one-off record; the runs must reach its artifact store)")
    submit.add_argument("--text", help="script to speak (one-off record)")
    submit.add_argument("--voice", help="Piper voice name (one-off record)")
    submit.add_argument(
        "--webserver",
        default=os.environ.get("TALKING_HEAD_WEBSERVER", "http://127.0.0.1:3000"),
        help="the Dagster webserver (default: $TALKING_HEAD_WEBSERVER or http://127.0.0.1:3000)",
    )

    commands.add_parser("doctor", help="report what this machine can render with (FFmpeg, voices, GPU, weights)")

    server = commands.add_parser(
        "avatar-server", help="keep the FlashHead pipeline loaded on this GPU machine and render the runs' avatars"
    )
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    server.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    server.add_argument("--no-warmup", action="store_true", help="skip the 1 s render that compiles the model at start")

    for sub in (render, demo):
        sub.add_argument(
            "--verbose", action="store_true", help="show Dagster's step logs, stack traces and native libraries' logs"
        )
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from talking_head_dagster.doctor import build_report

        report = build_report()
        print(report.render())
        return 0 if report.lite_path_works else 1
    if args.command == "avatar-server":
        return _avatar_server(args)
    if args.command == "setup":
        return _setup()
    if args.command == "submit":
        return _submit(args, parser)
    _ensure_dagster_home()
    return _render(args, parser)


def _render(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """One run for the record; on failure two lines (what, why, what to do) and the kind's exit code."""
    from rich.console import Console

    from talking_head_dagster.console_errors import EXIT_CODES, console_stream, explain
    from talking_head_dagster.failures import kind_of

    if args.command == "render" and not (
        (args.table and args.row is not None) or (args.url is not None and args.text is not None)
    ):
        parser.error("render needs --table and --row, or --url and --text")
    log_file = Path(os.environ["DAGSTER_HOME"]) / "logs" / "last-render.log"
    with console_stream(args.verbose, log_file) as stream:
        console = Console(file=stream)
        try:
            result = _render_record(args, console, "DEBUG" if args.verbose else "INFO")
        except Exception as exc:
            from talking_head_dagster.render import RenderFailed

            if args.verbose and not isinstance(exc, RenderFailed):
                raise
            kind = exc.failure.kind if isinstance(exc, RenderFailed) else kind_of(exc)
            message = str(exc) if isinstance(exc, RenderFailed) else f"{type(exc).__name__}: {exc}"
            print(explain(message, kind, None if args.verbose else log_file), file=stream)
            return EXIT_CODES[kind]
        print(f"url: {result.url}", file=stream)
    print(result.location)
    return 0


def _render_record(args: argparse.Namespace, console, log_level: str):
    from talking_head_dagster.render import render_one
    from talking_head_dagster.settings import Settings

    settings = Settings()
    if args.command == "render":
        # A row (--table/--row), or a one-off record (--url/--text): render_one tells them apart.
        one_off = not args.table
        return render_one(
            table=args.table,
            row=args.row,
            url=args.url if one_off else None,
            text=args.text if one_off else None,
            voice=args.voice if one_off else None,
            layout=args.layout if one_off else None,
            portrait=args.portrait,
            force=args.force,
            log_level=log_level,
            settings=settings,
            console=console,
        )
    from talking_head_dagster.demo import DEMO_SCRIPT, make_background, serve_directory
    from talking_head_dagster.media.binary import ffmpeg_binary

    folder = Path(".artifacts/demo").resolve()
    make_background(folder / "background.mp4", ffmpeg_binary())
    with serve_directory(folder) as base_url:
        # The demo's own loopback server, and nothing else on this machine.
        settings.download.allowed_hosts = [*settings.download.allowed_hosts, base_url.split("://")[1]]
        return render_one(
            url=f"{base_url}/background.mp4",
            text=args.text or DEMO_SCRIPT,
            log_level=log_level,
            settings=settings,
            console=console,
        )


def _submit(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Launch through the instance (GraphQL), follow the runs, print the URL last; 1 on failure."""
    from talking_head_dagster.settings import export_docker_secrets
    from talking_head_dagster.submit import SubmitFailed, submit

    if not ((args.table and args.row is not None) or (args.url is not None and args.text is not None)):
        parser.error("submit needs --table and --row, or --url and --text")
    export_docker_secrets()
    try:
        outcome = submit(
            table=args.table, row=args.row, url=args.url, text=args.text, voice=args.voice, webserver=args.webserver
        )
    except SubmitFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(outcome.url)
    return 0


def _avatar_server(args: argparse.Namespace) -> int:
    """Load the pipeline (and compile it on 1 s of silence), then serve renders until stopped; 1 if it cannot load."""
    from talking_head_dagster.avatar.flashhead.renderer import FlashHeadRenderer
    from talking_head_dagster.avatar.flashhead.server import AvatarServer
    from talking_head_dagster.errors import DeploymentError
    from talking_head_dagster.resources.factory import build_resources
    from talking_head_dagster.settings import Settings, export_docker_secrets

    export_docker_secrets()
    resources = build_resources(Settings())
    avatar, ffmpeg = resources["avatar"], resources["ffmpeg"]
    server = AvatarServer((args.host, args.port), FlashHeadRenderer(avatar.flashhead_options()), ffmpeg.exe)
    try:
        server.load(warmup_portrait=None if args.no_warmup else avatar.portrait_path())
    except DeploymentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        server.server_close()
        return 1
    health = server.health()
    print(
        f"avatar server ready at {server.url}: SoulX-FlashHead {health['model']}, attention {health['attention']}, "
        f"loaded in {health['load_s']} s",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _setup() -> int:
    """Create the missing status and error columns of every configured NocoDB table; 1 if one lacks data columns."""
    import dagster as dg

    from talking_head_dagster.errors import TalkingHeadError
    from talking_head_dagster.resources.factory import build_resources
    from talking_head_dagster.settings import Settings, export_docker_secrets
    from talking_head_dagster.table_setup import describe, set_up_tables

    export_docker_secrets()
    with dg.build_resources({"nocodb": build_resources(Settings())["nocodb"]}) as resources:
        if not resources.nocodb.configured or not resources.nocodb.tables:
            print("error: no NocoDB table is configured (TALKING_HEAD_NOCODB__URL, __TABLES)", file=sys.stderr)
            return 1
        try:
            reports = set_up_tables(resources.nocodb)
        except TalkingHeadError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    for report in reports:
        print(describe(report))
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
