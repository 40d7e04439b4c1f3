"""Every reason the flashhead backend cannot run is found before any work, and named clearly."""

import importlib.util
import os
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from talking_head_dagster.avatar.flashhead import upstream
from talking_head_dagster.avatar.flashhead.attention import MODEL_MODULE, attention_backend
from talking_head_dagster.avatar.flashhead.gitref import CommitUnknown, checkout_commit
from talking_head_dagster.avatar.flashhead.gpu import GpuUnavailable, probe_gpu
from talking_head_dagster.avatar.flashhead.machine import ThisMachine
from talking_head_dagster.avatar.flashhead.options import FlashHeadOptions
from talking_head_dagster.avatar.flashhead.preflight import require, run_preflight
from talking_head_dagster.avatar.flashhead.renderer import FlashHeadRenderer
from talking_head_dagster.avatar.flashhead.weights import check_weights
from talking_head_dagster.errors import DeploymentError, PermanentInputError
from tests.avatar.flashhead.conftest import StandInMachine, fake_checkout, fake_weights, speech_with_tail, standin_loads

OTHER_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def options_in(root: Path, **changes) -> FlashHeadOptions:
    values = {
        "vendor_dir": root / "vendor" / "SoulX-FlashHead",
        "ckpt_dir": root / "models" / "SoulX-FlashHead-1_3B",
        "wav2vec_dir": root / "models" / "wav2vec2-base-960h",
    }
    return FlashHeadOptions(**(values | changes))


def complete(root: Path, commit: str = upstream.PINNED_COMMIT, **changes) -> FlashHeadOptions:
    options = options_in(root, **changes)
    fake_checkout(options.vendor_dir, commit)
    fake_weights(options.ckpt_dir, options.wav2vec_dir, options.model_type)
    return options


# --------------------------------------------------------------------------- the commit of a checkout


def test_commit_of_a_detached_head(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text(upstream.PINNED_COMMIT + "\n")
    assert checkout_commit(tmp_path) == upstream.PINNED_COMMIT


def test_commit_of_a_branch_loose_or_packed(tmp_path: Path) -> None:
    git = tmp_path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "packed-refs").write_text(f"# pack-refs with: peeled fully-peeled sorted\n{OTHER_COMMIT} refs/heads/main\n")
    assert checkout_commit(tmp_path) == OTHER_COMMIT
    (git / "refs" / "heads" / "main").write_text(upstream.PINNED_COMMIT + "\n")  # a loose ref wins
    assert checkout_commit(tmp_path) == upstream.PINNED_COMMIT


def test_commit_of_a_worktree(tmp_path: Path) -> None:
    main_git = tmp_path / "main" / ".git"
    (main_git / "worktrees" / "wt").mkdir(parents=True)
    (main_git / "packed-refs").write_text(f"{upstream.PINNED_COMMIT} refs/heads/pinned\n")
    (main_git / "worktrees" / "wt" / "HEAD").write_text("ref: refs/heads/pinned\n")
    (main_git / "worktrees" / "wt" / "commondir").write_text("../..\n")
    checkout = tmp_path / "wt"
    checkout.mkdir()
    (checkout / ".git").write_text(f"gitdir: {main_git / 'worktrees' / 'wt'}\n")
    assert checkout_commit(checkout) == upstream.PINNED_COMMIT


def test_commit_unknown_without_git_or_commits(tmp_path: Path) -> None:
    with pytest.raises(CommitUnknown, match="not a git checkout"):
        checkout_commit(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    with pytest.raises(CommitUnknown, match="refs/heads/main, which has no commit"):
        checkout_commit(tmp_path)


# --------------------------------------------------------------------------- weights


def test_all_weights_present(tmp_path: Path) -> None:
    fake_weights(tmp_path / "ckpt", tmp_path / "w2v", "pro")
    status = check_weights("pro", tmp_path / "ckpt", tmp_path / "w2v")
    assert status.ok and len(status.present) == 6


def test_missing_weights_are_listed_one_by_one(tmp_path: Path) -> None:
    status = check_weights("lite", tmp_path / "ckpt", tmp_path / "w2v")
    assert status.missing == [
        str(tmp_path / "ckpt" / "Model_Lite" / "config.json"),
        str(tmp_path / "ckpt" / "Model_Lite" / "diffusion_pytorch_model.safetensors"),
        str(tmp_path / "ckpt" / "VAE_LTX" / "config.json"),
        str(tmp_path / "ckpt" / "VAE_LTX" / "diffusion_pytorch_model.safetensors"),
        str(tmp_path / "w2v" / "config.json"),
        str(tmp_path / "w2v" / "preprocessor_config.json"),
        str(tmp_path / "w2v" / "model.safetensors (or pytorch_model.bin)"),
    ]


def test_incomplete_weights_are_named_with_their_sizes(tmp_path: Path) -> None:
    fake_weights(tmp_path / "ckpt", tmp_path / "w2v", "lite")
    model = tmp_path / "ckpt" / "Model_Lite" / "diffusion_pytorch_model.safetensors"
    os.truncate(model, 1_000_000_000)  # an interrupted copy
    (tmp_path / "ckpt" / "VAE_LTX" / "config.json").write_text("version https://git-lfs.github.com/spec/v1\n")
    status = check_weights("lite", tmp_path / "ckpt", tmp_path / "w2v")
    assert not status.ok and not status.missing
    assert status.incomplete == [
        f"{model}: 1,000,000,000 bytes, the published file has 6,107,542,048",
        f"{tmp_path / 'ckpt' / 'VAE_LTX' / 'config.json'}: not readable JSON (JSONDecodeError)",
    ]


def test_wav2vec_weights_as_a_pytorch_bin_are_accepted(tmp_path: Path) -> None:
    fake_weights(tmp_path / "ckpt", tmp_path / "w2v", "lite")
    (tmp_path / "w2v" / "model.safetensors").rename(tmp_path / "w2v" / "pytorch_model.bin")
    assert check_weights("lite", tmp_path / "ckpt", tmp_path / "w2v").ok


# --------------------------------------------------------------------------- the preflight


def test_a_complete_deployment_passes(tmp_path: Path) -> None:
    report = require(complete(tmp_path), StandInMachine())
    assert report.ok and report.commit == upstream.PINNED_COMMIT and report.gpu.name == "Stand-in GPU"


def test_no_checkout_says_how_to_get_the_pinned_one(tmp_path: Path) -> None:
    options = options_in(tmp_path)
    fake_weights(options.ckpt_dir, options.wav2vec_dir)
    with pytest.raises(DeploymentError) as caught:
        require(options, StandInMachine())
    message = str(caught.value)
    assert f"no SoulX-FlashHead checkout at {options.vendor_dir}" in message
    assert f"git clone {upstream.REPOSITORY_URL} {options.vendor_dir}" in message
    assert f"checkout {upstream.PINNED_COMMIT}" in message
    assert message.count("\n- ") == 1  # the only problem


def test_a_checkout_at_another_commit_is_refused(tmp_path: Path) -> None:
    options = complete(tmp_path, commit=OTHER_COMMIT)
    with pytest.raises(DeploymentError) as caught:
        require(options, StandInMachine())
    assert f"at commit {OTHER_COMMIT}, the project is pinned to {upstream.PINNED_COMMIT}" in str(caught.value)


def test_a_copy_without_git_is_refused(tmp_path: Path) -> None:
    options = complete(tmp_path)
    (options.vendor_dir / ".git" / "HEAD").unlink()
    (options.vendor_dir / ".git").rmdir()
    with pytest.raises(DeploymentError, match="not a git checkout"):
        require(options, StandInMachine())


def test_missing_weights_are_listed(tmp_path: Path) -> None:
    options = complete(tmp_path)
    (options.ckpt_dir / "VAE_LTX" / "diffusion_pytorch_model.safetensors").unlink()
    (options.wav2vec_dir / "preprocessor_config.json").unlink()
    with pytest.raises(DeploymentError) as caught:
        require(options, StandInMachine())
    message = str(caught.value)
    assert f"missing {options.ckpt_dir / 'VAE_LTX' / 'diffusion_pytorch_model.safetensors'}" in message
    assert f"missing {options.wav2vec_dir / 'preprocessor_config.json'}" in message
    assert upstream.MODEL_REPOSITORY in message and "Model_Lite" not in message


def test_pro_needs_its_own_weights(tmp_path: Path) -> None:
    options = complete(tmp_path)  # lite weights only
    with pytest.raises(DeploymentError, match=r"missing .*VAE_Wan/Wan2\.1_VAE\.pth"):
        require(replace(options, model_type="pro"), StandInMachine())


def test_no_cuda_device(tmp_path: Path) -> None:
    no_gpu = StandInMachine(gpu_error="no CUDA device is visible to torch 2.13.0 (a CPU-only build)")
    with pytest.raises(DeploymentError, match=r"no CUDA device is visible .* flashhead needs a CUDA GPU"):
        require(complete(tmp_path), no_gpu)


def test_missing_upstream_packages_are_named_as_packages_to_install(tmp_path: Path) -> None:
    machine = StandInMachine(missing=("xfuser", "yaml"))
    with pytest.raises(DeploymentError, match=r"imports packages missing here: install xfuser pyyaml"):
        require(complete(tmp_path), machine)


def test_this_machine_finds_installed_modules_without_importing_them() -> None:
    assert ThisMachine().missing_modules(["numpy", "no_such_module_here", "no_such.sub"]) == [
        "no_such_module_here",
        "no_such.sub",
    ]


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="PyTorch is installed here")
def test_without_pytorch_the_real_probe_says_to_install_the_gpu_extra() -> None:
    with pytest.raises(GpuUnavailable, match="PyTorch is not installed: install the project's gpu extra"):
        probe_gpu()


def test_too_little_gpu_memory(tmp_path: Path) -> None:
    options = complete(tmp_path)
    with pytest.raises(DeploymentError, match=r"has 2\.0 GiB free, the lite model needs 8\.0 GiB"):
        require(options, StandInMachine(free_gib=2.0))
    # The operator can lower the bar for a model they know needs less.
    assert require(replace(options, min_free_gpu_gib=1.5), StandInMachine(free_gib=2.0)).ok


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    report = run_preflight(options_in(tmp_path), StandInMachine(free_gib=1.0))
    assert [check.name for check in report.checks if not check.ok] == [
        "upstream checkout",
        "lite weights",
        "GPU memory",
    ]


def test_a_deployment_problem_is_not_blamed_on_the_row(tmp_path: Path) -> None:
    with pytest.raises(DeploymentError) as caught:
        require(options_in(tmp_path), StandInMachine())
    assert not isinstance(caught.value, PermanentInputError)


def test_the_renderer_fails_before_any_work(tmp_path: Path, deployment: FlashHeadOptions) -> None:
    # Same checkout as the working deployment, but the GPU is too small: nothing may start.
    wav = speech_with_tail(tmp_path / "speech.wav", 1.0, 0.2)
    out = tmp_path / "avatar.mp4"
    renderer = FlashHeadRenderer(deployment, machine=StandInMachine(free_gib=1.0))
    loads_before = standin_loads()
    with pytest.raises(DeploymentError, match=r"1\.0 GiB free"):
        renderer.render(tmp_path / "no-portrait.png", wav, out, ffmpeg="/nonexistent/ffmpeg")
    assert standin_loads() == loads_before and not out.exists() and list(tmp_path.iterdir()) == [wav]


# --------------------------------------------------------------------------- attention kernel


def test_attention_follows_upstreams_own_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    flags = {"SAGE_ATTN_AVAILABLE": False, "FLASH_ATTN_3_AVAILABLE": False, "FLASH_ATTN_2_AVAILABLE": True}
    monkeypatch.setitem(sys.modules, MODEL_MODULE, SimpleNamespace(**flags))
    assert attention_backend() == "flash_attn_2"
    monkeypatch.setitem(sys.modules, MODEL_MODULE, SimpleNamespace(**(flags | {"FLASH_ATTN_2_AVAILABLE": False})))
    assert attention_backend() == "sdpa"


@pytest.mark.skipif(
    any(importlib.util.find_spec(p) for p in ("flash_attn", "flash_attn_interface", "sageattention")),
    reason="an attention package is installed here",
)
def test_without_flash_attention_packages_sdpa_is_reported() -> None:
    assert attention_backend() == "sdpa"
