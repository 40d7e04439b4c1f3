"""Importing upstream from the vendor checkout, and loading its pipeline once per process.

Upstream's ``flash_head/inference.py`` reads its parameters when it is imported, with
``open("flash_head/configs/infer_params.yaml")``: a path relative to the working directory, so
it imports only in a process started from the checkout's root. Changing directory (``os.chdir``)
would move every thread of the process (Dagster's other steps, relative settings such as
``models/``), so instead the module is executed from its file with one extra name in its
globals: ``open``, a wrapper that resolves relative paths against the checkout and then calls the
built-in. Python looks up a module's names in its own globals before the builtins, so only
this one module sees the wrapper; nothing global is patched and the working directory stays.

Upstream keeps its parameters in that module's globals and ``get_pipeline`` writes into them
(``motion_frames_num``, ``sample_steps``), so a process holds one pipeline at a time: asking for
another configuration releases the first.
"""

import builtins
import importlib
import importlib.util
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from talking_head_dagster.avatar.flashhead import upstream
from talking_head_dagster.avatar.flashhead.attention import attention_backend
from talking_head_dagster.avatar.flashhead.chunking import StreamPlan
from talking_head_dagster.avatar.flashhead.machine import Machine
from talking_head_dagster.avatar.flashhead.options import FlashHeadOptions
from talking_head_dagster.avatar.flashhead.preflight import require
from talking_head_dagster.errors import DeploymentError


@dataclass(frozen=True, eq=False)
class LoadedPipeline:
    key: tuple
    inference: ModuleType  # upstream's flash_head.inference
    pipeline: object  # what its get_pipeline returned
    plan: StreamPlan
    size: int
    attention: str
    load_seconds: float


_loaded: dict[tuple, LoadedPipeline] = {}
_lock = threading.Lock()


def load_pipeline(options: FlashHeadOptions, machine: Machine | None = None) -> LoadedPipeline:
    """The pipeline for ``options``, loaded on first use in this process and kept.

    Steps (the first time only):
      1. preflight: checkout, weights, packages, GPU and its memory (raises DeploymentError);
      2. release a pipeline of another configuration;
      3. import upstream from the checkout and build its pipeline;
      4. read the streaming parameters, and check they give the frames the deployment expects.
    """
    key = options.pipeline_key()
    with _lock:
        if key in _loaded:
            return _loaded[key]
        # 1. Preflight.
        require(options, machine)
        # 2. One pipeline per process.
        release_pipelines()
        # 3. Upstream.
        started = time.perf_counter()
        try:
            inference = import_inference(options.vendor_dir)
        except ImportError as exc:  # a package the preflight found but that does not import (broken install)
            raise DeploymentError(f"SoulX-FlashHead's code does not import here: {exc}") from exc
        pipeline = inference.get_pipeline(
            world_size=1,
            ckpt_dir=str(options.ckpt_dir.resolve()),
            model_type=options.model_type,
            wav2vec_dir=str(options.wav2vec_dir.resolve()),
        )
        # 4. Parameters.
        params = inference.get_infer_params()
        plan = StreamPlan.from_infer_params(params)
        size = int(params["height"])
        if (size, int(params["width"]), plan.fps) != (options.size, options.size, options.fps):
            raise DeploymentError(
                f"SoulX-FlashHead renders {params['width']}x{params['height']} at {plan.fps} fps; set "
                f"AVATAR__SIZE={params['height']} and AVATAR__FPS={plan.fps} (now {options.size} and {options.fps})"
            )
        loaded = LoadedPipeline(
            key, inference, pipeline, plan, size, attention_backend(), time.perf_counter() - started
        )
        _loaded[key] = loaded
        return loaded


def release_pipelines() -> None:
    """Forget every loaded pipeline (and give its GPU memory back when PyTorch is in use)."""
    if not _loaded:
        return
    _loaded.clear()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def import_inference(vendor_dir: Path) -> ModuleType:
    """Upstream's ``flash_head.inference`` from the checkout at ``vendor_dir`` (see the module docstring).

    Steps:
      1. put the checkout on ``sys.path``: upstream imports itself as ``flash_head.…``;
      2. reuse the module if this checkout's is already imported; refuse another checkout's;
      3. execute the module from its file with the resolving ``open`` in its globals.
    """
    root = vendor_dir.resolve()
    source = root / upstream.INFERENCE_FILE
    # 1. Import path.
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    # 2. Already imported?
    existing = sys.modules.get(upstream.INFERENCE_MODULE)
    if existing is not None:
        if Path(getattr(existing, "__file__", "")).resolve() == source:
            return existing
        raise DeploymentError(
            f"{upstream.INFERENCE_MODULE} was already imported from {existing.__file__} in this process; "
            f"restart it to use the checkout at {root}"
        )
    package = importlib.import_module(upstream.PACKAGE)
    if str(root / upstream.PACKAGE) not in [str(Path(p).resolve()) for p in package.__path__]:
        raise DeploymentError(f"the '{upstream.PACKAGE}' package imports from {list(package.__path__)}, not {root}")
    # 3. Execute with the resolving open.
    spec = importlib.util.spec_from_file_location(upstream.INFERENCE_MODULE, source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module.open = _open_relative_to(root)  # type: ignore[attr-defined]
    sys.modules[upstream.INFERENCE_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[upstream.INFERENCE_MODULE]
        raise
    setattr(package, "inference", module)  # noqa: B010 - what the import system does for a submodule
    return module


def _open_relative_to(root: Path):
    """``open`` for upstream's module: relative paths are taken from the checkout's root."""

    def open_in_checkout(file, *args, **kwargs):
        if isinstance(file, str | os.PathLike) and not os.path.isabs(file):
            file = root / file
        return builtins.open(file, *args, **kwargs)

    return open_in_checkout
