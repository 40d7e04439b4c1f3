"""``talking-head doctor``: the machine report, and its exit status (0 when the CPU path works)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import matplotlib

from talking_head_dagster.avatar.flashhead import upstream
from talking_head_dagster.doctor import build_report
from talking_head_dagster.settings import AvatarSettings, CompositeSettings, FlashHeadSettings, Settings, SpeechSettings
from tests.avatar.flashhead.conftest import fake_checkout, fake_weights
from tests.support.standin_voice import install_standin_zh_voice

CLI = str(Path(sys.executable).parent / "talking-head")


def test_doctor_on_a_cpu_machine(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    result = subprocess.run([CLI, "doctor"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    report = result.stdout
    assert "[ok] libx264 encoder" in report and "h264_nvenc encoder:" in report
    assert "[ok] en_US-joe-medium (en)" in report
    assert "[ok] lite (CPU): usable" in report
    assert "[--] flashhead (GPU, lite): not usable (upstream checkout, lite weights, upstream packages, CUDA" in report
    assert "imports packages missing here: install torchvision diffusers transformers xfuser" in report
    assert "no SoulX-FlashHead checkout at vendor/SoulX-FlashHead" in report and upstream.PINNED_COMMIT in report
    assert "[--] missing models/SoulX-FlashHead-1_3B/Model_Lite/diffusion_pytorch_model.safetensors" in report
    assert "AVATAR__BACKEND=auto, which picks lite here" in report
    if importlib.util.find_spec("torch") is None:
        assert "PyTorch is not installed" in report
    assert report.rstrip().endswith("The CPU path (FFmpeg + voice + lite avatar) works.")
    assert not (tmp_path / ".dagster_home").exists()  # the doctor starts no Dagster instance


def test_doctor_sees_a_checkout_and_weights(tmp_path: Path) -> None:
    vendor, ckpt, wav2vec = tmp_path / "vendor", tmp_path / "ckpt", tmp_path / "w2v"
    fake_checkout(vendor)
    fake_weights(ckpt, wav2vec, "pro")
    flashhead = FlashHeadSettings(model="pro", vendor_dir=vendor, ckpt_dir=ckpt, wav2vec_dir=wav2vec)
    report = build_report(Settings(avatar=AvatarSettings(flashhead=flashhead)))
    text = report.render()
    assert f"[ok] {vendor} at the pinned commit {upstream.PINNED_COMMIT}" in text
    assert f"[ok] present: {ckpt / 'VAE_Wan' / 'Wan2.1_VAE.pth'}" in text and "[--] missing" not in text
    assert report.lite_path_works


def test_doctor_fails_when_the_cpu_path_cannot_render(tmp_path: Path) -> None:
    report = build_report(Settings(avatar=AvatarSettings(portrait=tmp_path / "nobody.png")))
    assert not report.lite_path_works
    assert f"[--] lite (CPU): not usable: The portrait {tmp_path / 'nobody.png'} does not exist" in report.render()
    assert report.render().endswith("does NOT work: see the [--] lines above.")


def test_doctor_lists_the_voices_with_their_languages(tmp_path: Path) -> None:
    without = build_report(Settings(speech=SpeechSettings(models_dir=tmp_path / "models"))).render()
    assert "[ok] en_US-joe-medium (en): English" in without
    assert "[  ] Chinese scripts fail here. No voice for the script's language ('zh') is installed: put " in without
    assert f"{tmp_path / 'models' / 'zh_CN-huayan-medium.onnx'} and its " in without
    name = install_standin_zh_voice(tmp_path / "models")
    settings = Settings(speech=SpeechSettings(models_dir=tmp_path / "models", voices={"zh": name}))
    report = build_report(settings).render()
    assert f"[ok] {name} (zh): Chinese, {tmp_path / 'models' / name}.onnx" in report
    assert f"[  ] SPEECH__VOICES: zh -> {name}" in report and "Chinese scripts fail here" not in report


def test_doctor_lists_the_subtitle_fonts_and_which_writes_each_script(tmp_path: Path) -> None:
    default = build_report(Settings(speech=SpeechSettings(models_dir=tmp_path / "models"))).render()
    assert "[ok] Latin subtitles: DejaVu Sans (DejaVuSans-Bold.ttf)" in default
    assert "[ok] Chinese subtitles: Noto Sans CJK SC (NotoSansCJK-Regular.ttc)" in default
    assert (
        "[ok] Japanese subtitles: Noto Sans CJK JP" in default and "[ok] Korean subtitles: Noto Sans CJK KR" in default
    )
    # A configured file that is no font is named; a font under models/fonts comes before the bundled ones.
    (tmp_path / "models" / "fonts").mkdir(parents=True)
    last_resort = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "LastResortHE-Regular.ttf"
    (tmp_path / "models" / "fonts" / "any.ttf").write_bytes(last_resort.read_bytes())
    (tmp_path / "broken.ttf").write_text("not a font")
    settings = Settings(
        speech=SpeechSettings(models_dir=tmp_path / "models"),
        composite=CompositeSettings(subtitle_font=str(tmp_path / "broken.ttf")),
    )
    report = build_report(settings).render()
    assert f"[--] {tmp_path / 'broken.ttf'}: not a font FreeType can read" in report
    assert "[ok] Chinese subtitles: Last Resort High-Efficiency (any.ttf)" in report
    assert "10 faces (Noto Sans CJK JP, Noto Sans CJK KR, Noto Sans CJK SC, ...)" in report
