"""A mixed table: each row's voice cell picks its voice; an empty cell leaves it to the script's language."""

import wave
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg

from talking_head_dagster.assets.tts_audio import tts_audio
from talking_head_dagster.partitions import records
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.nocodb import NocoDBResource, TableMapping
from talking_head_dagster.resources.speech import BUNDLED_VOICE, PiperSpeech
from talking_head_dagster.speech.timing import SpeechManifest
from tests.support.standin_voice import install_standin_zh_voice

TABLE = "mixed"
ROWS = {
    1: {"Id": 1, "url": "https://example.com/a.mp4", "content": "今天气温28°C，湿度65%。", "voice": ""},
    2: {"Id": 2, "url": "https://example.com/b.mp4", "content": "Prices rose 4.99 percent. Dr. Li agrees."},
    3: {"Id": 3, "url": "https://example.com/c.mp4", "content": "A Chinese voice reads this.", "voice": "zh"},
    4: {"Id": 4, "url": "https://example.com/d.mp4", "content": "中文脚本，英文声音。", "voice": BUNDLED_VOICE},
}


class TableOfRows(NocoDBResource):
    """NocoDB as the stage sees it: the rows above, read through the table's column mapping."""

    rows: ClassVar[dict[int, dict[str, Any]]] = ROWS

    def get_row(self, table_id: str, row_id: int) -> dict[str, Any]:
        return self.rows[row_id]


def test_each_row_of_a_mixed_table_is_spoken_by_its_own_voice(tmp_path: Path) -> None:
    zh_voice = install_standin_zh_voice(tmp_path / "models")
    instance = dg.DagsterInstance.ephemeral()
    keys = [f"{TABLE}-{row}" for row in ROWS]
    instance.add_dynamic_partitions(records.name, keys)
    artifacts = ArtifactStore(local_dir=str(tmp_path / "artifacts"))
    resources = {
        "nocodb": TableOfRows(tables=[TableMapping(id=TABLE, voice_column="voice")]),
        "artifacts": artifacts,
        "speech": PiperSpeech(models_dir=str(tmp_path / "models")),
    }
    spoken = {}
    for key in keys:
        assert dg.materialize([tts_audio], partition_key=key, instance=instance, resources=resources).success
        manifest = artifacts.manifest(key, "tts_audio", SpeechManifest)
        with wave.open(str(artifacts.file(key, "tts_audio", manifest.wav_file))) as wav:
            assert wav.getnframes() / wav.getframerate() == manifest.duration_s
        spoken[key] = (manifest.voice, manifest.sentences[0].text, manifest.sentences[0].spoken)
    assert spoken[f"{TABLE}-1"] == (zh_voice, "今天气温28°C，湿度65%。", "今天气温二十八度，湿度百分之六十五。")
    assert spoken[f"{TABLE}-2"] == (BUNDLED_VOICE, "Prices rose 4.99 percent.", "Prices rose 4.99 percent.")
    assert spoken[f"{TABLE}-3"][0] == zh_voice
    assert spoken[f"{TABLE}-4"][0] == BUNDLED_VOICE
