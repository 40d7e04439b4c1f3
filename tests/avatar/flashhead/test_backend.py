"""The avatar resource with the flashhead backend: auto's choice, one load per process, the asset's metadata."""

from pathlib import Path

import pytest

from talking_head_dagster.avatar.flashhead.attention import attention_backend
from talking_head_dagster.avatar.flashhead.options import FlashHeadOptions
from talking_head_dagster.errors import DeploymentError
from talking_head_dagster.manifests import AvatarManifest
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.avatar import AvatarRenderer, FlashHeadBackend, LiteBackend
from tests.avatar.flashhead.conftest import StandInMachine, materialize_avatar, speech_with_tail, standin_loads

KEY = "local-flashhead"


def resource_for(options: FlashHeadOptions, backend: str = "auto", portrait: Path | None = None) -> AvatarRenderer:
    return AvatarRenderer(
        backend=backend,
        portrait=str(portrait) if portrait else None,
        flashhead_vendor_dir=str(options.vendor_dir),
        flashhead_ckpt_dir=str(options.ckpt_dir),
        flashhead_wav2vec_dir=str(options.wav2vec_dir),
    )


@pytest.fixture
def standin_machine(monkeypatch: pytest.MonkeyPatch) -> StandInMachine:
    """The resource asks this machine (PyTorch, installed packages); here a stand-in answers."""
    machine = StandInMachine()
    monkeypatch.setattr("talking_head_dagster.avatar.flashhead.preflight.ThisMachine", lambda: machine)
    return machine


def test_auto_falls_back_to_lite_and_says_why(tmp_path: Path, standin_machine: StandInMachine) -> None:
    missing = FlashHeadOptions(vendor_dir=tmp_path / "vendor", ckpt_dir=tmp_path / "ckpt", wav2vec_dir=tmp_path / "w2v")
    backend, choice = resource_for(missing).resolved_backend()
    assert isinstance(backend, LiteBackend)
    assert choice.startswith("auto: flashhead is not usable here: no SoulX-FlashHead checkout at")
    assert "missing" in choice  # the weights too, all reasons in one line
    # Decided once per process: asking again does not run the preflight again.
    resource_for(missing).resolved_backend()
    assert standin_machine.asked == 1


def test_auto_picks_flashhead_when_usable(deployment: FlashHeadOptions, standin_machine: StandInMachine) -> None:
    backend, choice = resource_for(deployment).resolved_backend()
    assert isinstance(backend, FlashHeadBackend) and choice == "auto: flashhead is usable on this machine"


def test_lite_is_never_preflighted(deployment: FlashHeadOptions, standin_machine: StandInMachine) -> None:
    backend, choice = resource_for(deployment, backend="lite").resolved_backend()
    assert isinstance(backend, LiteBackend) and choice is None and not standin_machine.asked


def test_explicit_flashhead_on_an_unusable_machine_fails_before_any_work(tmp_path: Path) -> None:
    # No stand-in GPU here: the real probe answers (no PyTorch, or no CUDA device, in CI).
    options = FlashHeadOptions(vendor_dir=tmp_path / "v", ckpt_dir=tmp_path / "c", wav2vec_dir=tmp_path / "w")
    wav = speech_with_tail(tmp_path / "speech.wav", 1.0, 0.2)
    with pytest.raises(DeploymentError, match="cannot run on this machine") as caught:
        resource_for(options, backend="flashhead").render(wav, tmp_path / "out.mp4", "/nonexistent/ffmpeg")
    assert "no SoulX-FlashHead checkout" in str(caught.value) and "missing" in str(caught.value)
    assert not (tmp_path / "out.mp4").exists()


def test_the_resource_loads_the_pipeline_once_for_several_rows(
    deployment: FlashHeadOptions, standin_machine: StandInMachine, tmp_path: Path, ffmpeg: str, portrait: Path
) -> None:
    wav = speech_with_tail(tmp_path / "speech.wav", 1.0, 0.2)
    loads_before = standin_loads()
    for row in range(3):
        result = resource_for(deployment, "flashhead", portrait).render(wav, tmp_path / f"{row}.mp4", ffmpeg)
        assert (result.backend, result.frames, result.model) == ("flashhead", 25, "lite")
    assert standin_loads() == loads_before + 1


def test_the_asset_records_backend_model_and_attention(
    deployment: FlashHeadOptions, standin_machine: StandInMachine, tmp_path: Path, portrait: Path
) -> None:
    artifacts = ArtifactStore(local_dir=str(tmp_path / "artifacts"))
    metadata = materialize_avatar(artifacts, KEY, resource_for(deployment, "auto", portrait))
    assert metadata["backend"].value == "flashhead" and metadata["model"].value == "lite"
    assert metadata["attention"].value == attention_backend()  # "sdpa" in CI: no FlashAttention there
    assert metadata["backend_choice"].value == "auto: flashhead is usable on this machine"
    assert metadata["frames"].value == 38  # ceil(1.5 s x 25)
    manifest = artifacts.manifest(KEY, "avatar_video", AvatarManifest)
    assert (manifest.backend, manifest.model, manifest.attention) == ("flashhead", "lite", metadata["attention"].value)
