"""A Chinese script through the real Piper runtime, with the tests' stand-in zh_CN voice.

The stand-in's audio encodes the phoneme ids it was given (tests/support/standin_voice.py), so
these tests read back what reached the model: the phonemes of each sentence's spoken form, in
order, on the sentence's timing, while the timings and the .srt keep the script's own text.
"""

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from talking_head_dagster.errors import NoVoiceError
from talking_head_dagster.media.subtitles import srt_document
from talking_head_dagster.resources.speech import PiperSpeech, SpeechResult
from tests.support.standin_voice import ID_SAMPLES, decode_ids, install_standin_zh_voice, phoneme_id_map

SCRIPT = "今年营收2.97亿元，同比增长1.5%。新款iPhone 15售价¥5,999元！AI功能全面升级。"
SENTENCES = ["今年营收2.97亿元，同比增长1.5%。", "新款iPhone 15售价¥5,999元！", "AI功能全面升级。"]


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> tuple[PiperSpeech, SpeechResult, np.ndarray]:
    """The script spoken once by the stand-in, found under models/ with no other setting."""
    root = tmp_path_factory.mktemp("zh")
    install_standin_zh_voice(root / "models")
    speech = PiperSpeech(models_dir=str(root / "models"), sentence_pause_s=0.25)
    result = speech.synthesize(SCRIPT, root / "speech.wav")
    with wave.open(str(root / "speech.wav")) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float32) / 32768
    return speech, result, samples


def _model_ids(speech: PiperSpeech, text: str) -> list[int]:
    """The ids Piper hands the voice for ``text``, sentence chunk after sentence chunk."""
    voice = speech._load(speech.choose_voice(text, "zh"))
    return [i for phonemes in voice.phonemize(text) for i in voice.phonemes_to_ids(phonemes)]


def _segment(result: SpeechResult, samples: np.ndarray, index: int) -> np.ndarray:
    timing = result.sentences[index]
    return samples[round(timing.start_s * result.sample_rate) : round(timing.end_s * result.sample_rate)]


def test_the_chinese_voice_under_models_is_used_with_no_setting(spoken) -> None:
    _, result, _ = spoken
    assert (result.voice, result.language) == ("zh_CN-standin-medium", "zh")


def test_the_phonemes_of_each_spoken_form_reach_the_model_in_order(spoken) -> None:
    speech, result, samples = spoken
    assert [timing.text for timing in result.sentences] == SENTENCES
    for index, timing in enumerate(result.sentences):
        assert not any(ch.isdigit() or ch in "%¥," for ch in timing.spoken), timing.spoken
        received = decode_ids(_segment(result, samples, index))
        assert received == _model_ids(speech, timing.spoken)
        assert received != _model_ids(speech, timing.text)  # the script's own text would not sound the same


def test_percent_is_not_read_as_the_english_word(spoken) -> None:
    speech, result, samples = spoken
    names = {ids[0]: phoneme for phoneme, ids in phoneme_id_map().items() if phoneme not in "_^$"}
    heard = "".join(names.get(i, "") for i in decode_ids(_segment(result, samples, 0)))
    english = "".join(names.get(i, "") for i in _model_ids(speech, "1.5%"))
    assert "sˈɛnt" in english  # espeak's "percent", had the sign reached it
    assert "sˈɛnt" not in heard and "pə" not in heard
    assert result.sentences[0].spoken.endswith("同比增长百分之一点五。")


def test_audio_length_follows_the_phoneme_count_and_timings_line_up(spoken) -> None:
    speech, result, samples = spoken
    assert len(samples) / result.sample_rate == pytest.approx(result.duration_s)
    pause = int(0.25 * result.sample_rate) / result.sample_rate
    previous_end = None
    for timing in result.sentences:
        ids = _model_ids(speech, timing.spoken)
        assert timing.end_s - timing.start_s == pytest.approx(len(ids) * ID_SAMPLES / result.sample_rate)
        if previous_end is not None:
            assert timing.start_s == pytest.approx(previous_end + pause)
        previous_end = timing.end_s
    assert result.sentences[0].start_s == 0 and previous_end == pytest.approx(result.duration_s)
    # A longer spoken form is longer audio: 2.97亿 says more than it shows.
    durations = [t.end_s - t.start_s for t in result.sentences]
    assert durations[0] > durations[2]


def test_the_srt_holds_the_script_text_on_the_speech_timings(spoken) -> None:
    _, result, _ = spoken
    cues = srt_document(result.sentences).strip().split("\n\n")
    assert [cue.splitlines()[2] for cue in cues] == SENTENCES
    last_end = cues[-1].splitlines()[1].split(" --> ")[1]
    seconds = sum(float(part) * 60**power for power, part in enumerate(reversed(last_end.replace(",", ".").split(":"))))
    assert seconds == pytest.approx(result.duration_s, abs=0.001)


def test_every_phoneme_espeak_cmn_gives_the_spoken_forms_is_in_the_voice(spoken, caplog) -> None:
    speech, result, _ = spoken
    voice = speech._load(speech.choose_voice(SCRIPT, "zh"))
    for timing in result.sentences:
        for phonemes in voice.phonemize(timing.spoken):
            assert set(phonemes) <= set(voice.config.phoneme_id_map), timing.spoken


def test_a_chinese_row_without_a_chinese_voice_says_which_file_to_put_where(tmp_path: Path) -> None:
    speech = PiperSpeech(models_dir="models")
    with pytest.raises(NoVoiceError) as raised:
        speech.synthesize(SCRIPT, tmp_path / "out.wav")
    message = str(raised.value)
    assert "\n" not in message
    assert "put models/zh_CN-huayan-medium.onnx and its models/zh_CN-huayan-medium.onnx.json" in message


def test_a_voice_config_without_a_language_code_is_known_by_its_espeak_voice(tmp_path: Path) -> None:
    # Older published configs (zh_CN-huayan-medium's among them) have no "language" block.
    name = install_standin_zh_voice(tmp_path)
    config = json.loads((tmp_path / f"{name}.onnx.json").read_text())
    del config["language"]
    (tmp_path / f"{name}.onnx").rename(tmp_path / "huayan.onnx")
    (tmp_path / "huayan.onnx.json").write_text(json.dumps(config))
    (tmp_path / f"{name}.onnx.json").unlink()
    speech = PiperSpeech(models_dir=str(tmp_path))
    assert speech.available_voices()["huayan"].language == "zh"
    assert speech.choose_voice("你好").name == "huayan"


def test_a_row_may_name_a_language_instead_of_a_voice(tmp_path: Path) -> None:
    install_standin_zh_voice(tmp_path)
    speech = PiperSpeech(models_dir=str(tmp_path))
    assert speech.choose_voice("Hello", "zh").name == "zh_CN-standin-medium"
    assert speech.choose_voice("你好", "en_US").language == "en"
    with pytest.raises(NoVoiceError, match="'de'"):
        speech.choose_voice("Hallo", "de")
