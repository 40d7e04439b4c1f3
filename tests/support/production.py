"""The two-location production deployment on this machine: Postgres, both code servers, the daemon.

What differs from compose.yaml, and why: the processes run here, not in containers (no Docker
engine), so the instance is deploy/dagster.yaml with the default run launcher in place of the
DockerRunLauncher (runs are processes of the code servers; tests/deploy/test_container_config.py
covers the Docker launcher), and with no run resumption (only container launchers resume runs).
Everything else (Postgres storage, the run queue and its limits, the gpu pool, run monitoring and
retries, the gRPC workspace, the code servers' commands) is the production file's.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import dagster as dg
import yaml

from tests.support.processes import (
    BIN,
    REPO,
    compose_services,
    container_env,
    free_port,
    local_command,
    started,
    wait_for_code_server,
)

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own on the machine's PostgreSQL server, dropped afterwards.

    An unreachable server fails the test (psycopg2's error): CI has one, and a deployment test that
    skips would prove nothing.
    """
    import psycopg2

    name = f"th_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(dbname="postgres", connect_timeout=10, **PG)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def postgres_env(database: str) -> dict[str, str]:
    return {
        "DAGSTER_PG_HOST": PG["host"],
        "DAGSTER_PG_PORT": str(PG["port"]),
        "DAGSTER_PG_USER": PG["user"],
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": database,
    }


def production_instance_yaml() -> dict:
    config = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())
    del config["run_launcher"]
    config["run_monitoring"]["max_resume_run_attempts"] = 0
    return config


@dataclass
class Deployment:
    home: Path
    env: dict[str, str]
    workspace: Path
    folder: Path

    def instance(self) -> dg.DagsterInstance:
        """The deployment's instance, for this process (the storage settings resolve at creation)."""
        with mock.patch.dict(os.environ, {k: v for k, v in self.env.items() if k.startswith("DAGSTER_PG_")}):
            return dg.DagsterInstance.from_config(str(self.home))

    def daemon(self, name: str = "daemon"):
        command = [str(BIN / "dagster-daemon"), "run", "-w", str(self.workspace)]
        return started(command, self.env, self.folder / f"{name}.log")


def two_location_deployment(
    folder: Path, database: str, settings_env: dict[str, str], modules: dict[str, str] | None = None
):
    """Both code servers (compose.yaml's commands) on this machine, and a workspace naming them.

    ``modules`` loads another module in a service's code server (a test's held location)."""
    return compose_deployment(folder, database, settings_env, modules=modules)


def served_deployment(folder: Path, database: str, settings_env: dict[str, str]):
    """The one code server of deploy/compose.served.yaml (the avatar server renders every avatar)."""
    return compose_deployment(folder, database, settings_env, served=True)


@contextmanager
def compose_deployment(
    folder: Path,
    database: str,
    settings_env: dict[str, str],
    served: bool = False,
    modules: dict[str, str] | None = None,
) -> Iterator[Deployment]:
    """The code servers of compose.yaml (over it deploy/compose.served.yaml with ``served``), here, and a workspace."""
    home = folder / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(production_instance_yaml()))
    env = {
        **os.environ,
        **settings_env,
        **postgres_env(database),
        "DAGSTER_HOME": str(home),
        # The shared 2-core test machine can be slow to answer gRPC calls.
        "DAGSTER_GRPC_TIMEOUT_SECONDS": "300",
        # As compose.yaml's daemon: the queue holds the next avatar run until the running one claims its slot.
        "DAGSTER_OP_CONCURRENCY_KEYS_ALLOTTED_FOR_STARTED_RUN_SECONDS": "60",
    }
    services = compose_services(overrides=("deploy/compose.served.yaml",) if served else ())
    workspace = yaml.safe_load(
        (REPO / "deploy" / ("workspace.served.yaml" if served else "workspace.yaml")).read_text()
    )
    with ExitStack() as stack:
        servers = []
        for entry in workspace["load_from"]:
            server = entry["grpc_server"]
            service = server["host"]  # the workspace names each server by its compose service
            port, log = free_port(), folder / f"{service}.log"
            command = local_command(services[service], port)
            if service in (modules or {}):
                command[command.index("-m") + 1] = modules[service]
            process = stack.enter_context(started(command, {**env, **container_env(services[service])}, log))
            servers.append((process, port, log))
            server.update(host="127.0.0.1", port=port)
        for process, port, log in servers:
            wait_for_code_server(port, process, log)
        (folder / "workspace.yaml").write_text(yaml.safe_dump(workspace))
        yield Deployment(home=home, env=env, workspace=folder / "workspace.yaml", folder=folder)
