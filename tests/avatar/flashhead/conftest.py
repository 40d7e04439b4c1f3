"""A flashhead deployment that runs without a GPU: the stand-in checkout, sparse weights, a stand-in machine.

Only what is asked of the machine (its GPU, upstream's packages) is stood in for; the checkout,
commit and weight checks run as in production against files laid out as they would be.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import numpy as np
import pytest

from talking_head_dagster.assets.avatar_video import avatar_video
from talking_head_dagster.avatar.flashhead import upstream
from talking_head_dagster.avatar.flashhead.gpu import GIB, GpuInfo, GpuUnavailable
from talking_head_dagster.avatar.flashhead.loader import release_pipelines
from talking_head_dagster.avatar.flashhead.options import FlashHeadOptions
from talking_head_dagster.avatar.flashhead.renderer import FlashHeadRenderer
from talking_head_dagster.avatar.flashhead.server import AvatarServer
from talking_head_dagster.avatar.flashhead.weights import MODEL_FILES, WAV2VEC_FILES, ModelType
from talking_head_dagster.partitions import records
from talking_head_dagster.resources import avatar as avatar_resource
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.avatar import AvatarRenderer
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.speech.timing import SentenceTiming, SpeechManifest
from tests.avatar.conftest import write_wav

STANDIN = Path(__file__).resolve().parents[1] / "flashhead_standin"
RATE = 22050  # Piper's sample rate


def fake_checkout(root: Path, commit: str = upstream.PINNED_COMMIT) -> Path:
    """The stand-in laid out as a checkout whose HEAD is ``commit`` (detached, as after a checkout)."""
    shutil.copytree(STANDIN, root)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text(commit + "\n")
    return root


def fake_weights(ckpt_dir: Path, wav2vec_dir: Path, model_type: ModelType = "lite") -> None:
    """Every weight file at its published size (sparse: no disk used), every JSON readable."""
    for folder, specs in ((ckpt_dir, MODEL_FILES[model_type]), (wav2vec_dir, WAV2VEC_FILES)):
        for spec in specs:
            path = folder / spec.path
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".json":
                path.write_text(json.dumps({"stand_in": True}))
            else:
                path.touch()
                os.truncate(path, spec.size)


class StandInMachine:
    """A machine with a GPU of ``free_gib`` free (or ``gpu_error``) and every package but ``missing``."""

    def __init__(self, free_gib: float = 20.0, gpu_error: str | None = None, missing: tuple[str, ...] = ()):
        self.free_gib, self.gpu_error, self.missing = free_gib, gpu_error, missing
        self.asked = 0

    def gpu(self) -> GpuInfo:
        self.asked += 1
        if self.gpu_error:
            raise GpuUnavailable(self.gpu_error)
        return GpuInfo("Stand-in GPU", 24 * GIB, int(self.free_gib * GIB), "stand-in", "stand-in")

    def missing_modules(self, modules) -> list[str]:
        return [module for module in modules if module in self.missing]


def standin_deployment(root: Path) -> FlashHeadOptions:
    """A complete deployment for both models under ``root``: the stand-in checkout and sparse weights."""
    options = FlashHeadOptions(
        vendor_dir=root / "vendor" / "SoulX-FlashHead",
        ckpt_dir=root / "models" / "SoulX-FlashHead-1_3B",
        wav2vec_dir=root / "models" / "wav2vec2-base-960h",
    )
    fake_checkout(options.vendor_dir)
    for model_type in ("lite", "pro"):
        fake_weights(options.ckpt_dir, options.wav2vec_dir, model_type)
    return options


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> FlashHeadOptions:
    """The stand-in deployment. One per session: a process imports one checkout."""
    return standin_deployment(tmp_path_factory.mktemp("flashhead"))


@pytest.fixture(autouse=True)
def fresh_process_state() -> Iterator[None]:
    """Each test starts with no pipeline loaded and no 'auto' decision cached."""
    release_pipelines()
    avatar_resource._AUTO_CHOICES.clear()
    yield
    release_pipelines()
    avatar_resource._AUTO_CHOICES.clear()


def standin_module():
    """The stand-in's inference module once a test has imported it through the adapter."""
    return sys.modules[upstream.INFERENCE_MODULE]


def standin_loads() -> int:
    """How often this process has built a stand-in pipeline (0 before the first import)."""
    module = sys.modules.get(upstream.INFERENCE_MODULE)
    return len(module.LOADS) if module is not None else 0


def speech_with_tail(path: Path, seconds: float, tail_s: float) -> Path:
    """Silence, then a loud 440 Hz tone over the last ``tail_s`` seconds: the "last words"."""
    n = round(seconds * RATE)
    samples = np.zeros(n)
    start = n - round(tail_s * RATE)
    t = np.arange(n - start) / RATE
    samples[start:] = 0.5 * np.sin(2 * np.pi * 440 * t)
    return write_wav(path, np.round(samples * 32767), RATE)


def materialize_avatar(artifacts: ArtifactStore, key: str, avatar: AvatarRenderer) -> dict:
    """``avatar_video`` materialised for ``key`` on 1.5 s of speech (its last 0.3 s a tone); its metadata."""
    commit_speech(artifacts, key)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(records.name, [key])
        result = dg.materialize(
            [avatar_video],
            partition_key=key,
            instance=instance,
            resources={"artifacts": artifacts, "avatar": avatar, "ffmpeg": FFmpegResource()},
        )
    return result.asset_materializations_for_node("avatar_video")[0].metadata


def commit_speech(artifacts: ArtifactStore, key: str) -> None:
    """``tts_audio`` of ``key`` in the artifact store: 1.5 s of speech, its last 0.3 s a tone."""
    staging = artifacts.staging_dir(key, "tts_audio")
    speech_with_tail(staging / "speech.wav", 1.5, 0.3)
    timing = SentenceTiming(index=0, text="Hello.", start_s=0.0, end_s=1.5)
    speech = SpeechManifest(
        wav_file="speech.wav", text="Hello.", language="en", voice="stand-in", sample_rate=22050,
        duration_s=1.5, sentences=[timing], synthesis_seconds=0.0,
    )  # fmt: skip
    artifacts.commit(key, "tts_audio", staging, speech)


@pytest.fixture
def server(deployment: FlashHeadOptions, ffmpeg: str, portrait: Path) -> Iterator[AvatarServer]:
    """An avatar server on a free port of 127.0.0.1, loaded and warmed up, serving on a thread."""
    avatar_server = AvatarServer(("127.0.0.1", 0), FlashHeadRenderer(deployment, StandInMachine()), ffmpeg)
    avatar_server.load(warmup_portrait=portrait)
    thread = threading.Thread(target=avatar_server.serve_forever, daemon=True)
    thread.start()
    yield avatar_server
    avatar_server.shutdown()
    avatar_server.server_close()
    thread.join(timeout=10)
