"""A STAND-IN Chinese Piper voice for the tests: Piper's model signature, no speech in it.

No Chinese Piper voice can be installed where the tests run, so the tests build this one: an ONNX
graph with a real voice's inputs (``input`` int64 [1, N] phoneme ids, ``input_lengths`` int64 [1],
``scales`` float32 [3]) and output (float audio [1, 1, samples]), and a ``zh_CN`` config whose
espeak voice is ``cmn`` and whose phoneme id map is the one the published zh_CN-huayan-medium
voice uses (Piper's default map up to id 151). The real Piper runtime phonemizes, maps ids and
runs it like any voice.

Its audio says which ids it got: each id becomes a tone ``ID_SAMPLES * length_scale`` samples
long whose frequency sits on FFT bin ``id + BIN_OFFSET`` of that segment, so ``decode_ids`` reads
the ids back in order from a WAV, and the audio's length follows the phoneme count. A syllable-
like envelope (five swells a second, down to -30 dB between them) over the tones (344 Hz for the
pad between phonemes, up to ~7.8 kHz) gives the CPU avatar's mouth speech-band energy that comes
and goes, to open and close with; the envelope is slow enough to leave each segment's peak alone.
"""

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from piper.phoneme_ids import DEFAULT_PHONEME_ID_MAP

VOICE_NAME = "zh_CN-standin-medium"
SAMPLE_RATE = 22050
ID_SAMPLES = 512  # samples per phoneme id at length_scale 1 (~23 ms)
BIN_OFFSET = 8  # id 0 (the pad) is FFT bin 8 of its segment: 344 Hz
AMPLITUDE = 0.5
SYLLABLE_S = 0.2  # the tones swell and fade five times a second, as syllables do
FLOOR = 0.03  # the envelope's trough (-30 dB): the avatar's mouth nearly closes there
HUAYAN_MAX_ID = 151  # zh_CN-huayan-medium's phoneme_id_map holds ids 0..151 of Piper's default map


def install_standin_zh_voice(models_dir: Path) -> str:
    """Write the stand-in voice (``<name>.onnx`` and ``<name>.onnx.json``) under ``models_dir``; its name."""
    models_dir.mkdir(parents=True, exist_ok=True)
    onnx.save(_model(), str(models_dir / f"{VOICE_NAME}.onnx"))
    (models_dir / f"{VOICE_NAME}.onnx.json").write_text(json.dumps(_config(), ensure_ascii=False, indent=1))
    return VOICE_NAME


def phoneme_id_map() -> dict[str, list[int]]:
    return {phoneme: ids for phoneme, ids in DEFAULT_PHONEME_ID_MAP.items() if ids[0] <= HUAYAN_MAX_ID}


def decode_ids(samples: np.ndarray, length_scale: float = 1.0) -> list[int]:
    """The phoneme ids a stretch of the stand-in's audio encodes, in order."""
    segment = round(ID_SAMPLES * length_scale)
    count = len(samples) // segment
    spectra = np.abs(np.fft.rfft(samples[: count * segment].reshape(count, segment), axis=1))
    bins = np.round(np.arange(spectra.shape[1]) * ID_SAMPLES / segment).astype(int)
    return [int(bins[peak]) - BIN_OFFSET for peak in spectra.argmax(axis=1)]


def _config() -> dict:
    return {
        "audio": {"sample_rate": SAMPLE_RATE, "quality": "medium"},
        "espeak": {"voice": "cmn"},
        "language": {"code": "zh_CN", "family": "zh", "region": "CN", "name_english": "Chinese (stand-in)"},
        "inference": {"noise_scale": 0.667, "length_scale": 1, "noise_w": 0.8},
        "phoneme_type": "espeak",
        "phoneme_map": {},
        "phoneme_id_map": phoneme_id_map(),
        "num_symbols": 256,
        "num_speakers": 1,
        "speaker_id_map": {},
        "piper_version": "1.0.0",
        "dataset": "none: a test stand-in, not a voice",
    }


def _model() -> onnx.ModelProto:
    """Per id: round(ID_SAMPLES * length_scale) samples of AMPLITUDE * sin(2 pi (id + BIN_OFFSET) t / ID_SAMPLES)."""
    nodes = [
        _constant("axis0", TensorProto.INT64, [0], dims=[1]),
        helper.make_node("Squeeze", ["input", "axis0"], ["ids"]),
        helper.make_node("Cast", ["ids"], ["ids_f"], to=TensorProto.FLOAT),
        _constant("offset", TensorProto.FLOAT, [BIN_OFFSET]),
        helper.make_node("Add", ["ids_f", "offset"], ["bins"]),
        _constant("omega", TensorProto.FLOAT, [2 * np.pi / ID_SAMPLES]),
        helper.make_node("Mul", ["bins", "omega"], ["step"]),  # radians per sample, per id
        # Samples per id: round(ID_SAMPLES * length_scale), length_scale = scales[1].
        _constant("one", TensorProto.INT64, [1]),
        helper.make_node("Gather", ["scales", "one"], ["length_scale"], axis=0),
        _constant("id_samples", TensorProto.FLOAT, [ID_SAMPLES]),
        helper.make_node("Mul", ["length_scale", "id_samples"], ["seg_f"]),
        helper.make_node("Round", ["seg_f"], ["seg_r"]),
        _constant("zero_f", TensorProto.FLOAT, [0.0]),
        _constant("one_f", TensorProto.FLOAT, [1.0]),
        helper.make_node("Range", ["zero_f", "seg_r", "one_f"], ["t"]),
        # phase[i, t] = step[i] * t
        _constant("axis1", TensorProto.INT64, [1], dims=[1]),
        helper.make_node("Unsqueeze", ["step", "axis1"], ["step_col"]),
        helper.make_node("Unsqueeze", ["t", "axis0"], ["t_row"]),
        helper.make_node("Mul", ["step_col", "t_row"], ["phase"]),
        helper.make_node("Sin", ["phase"], ["wave"]),
        # envelope[i, t] = FLOOR + (1 - FLOOR) * |sin(pi * (i * L + t) / syllable)|
        helper.make_node("Shape", ["ids_f"], ["count"]),
        helper.make_node("Cast", ["count"], ["count_f"], to=TensorProto.FLOAT),
        helper.make_node("Squeeze", ["count_f", "axis0"], ["count_s"]),
        helper.make_node("Range", ["zero_f", "count_s", "one_f"], ["index"]),
        helper.make_node("Mul", ["index", "seg_r"], ["first"]),
        helper.make_node("Unsqueeze", ["first", "axis1"], ["first_col"]),
        helper.make_node("Add", ["first_col", "t_row"], ["sample"]),
        _constant("per_syllable", TensorProto.FLOAT, [np.pi / (SYLLABLE_S * SAMPLE_RATE)]),
        helper.make_node("Mul", ["sample", "per_syllable"], ["syllable_phase"]),
        helper.make_node("Sin", ["syllable_phase"], ["swell"]),
        helper.make_node("Abs", ["swell"], ["swell_abs"]),
        _constant("depth", TensorProto.FLOAT, [1 - FLOOR]),
        helper.make_node("Mul", ["swell_abs", "depth"], ["swell_scaled"]),
        _constant("floor", TensorProto.FLOAT, [FLOOR]),
        helper.make_node("Add", ["swell_scaled", "floor"], ["envelope"]),
        helper.make_node("Mul", ["wave", "envelope"], ["shaped"]),
        _constant("amp", TensorProto.FLOAT, [AMPLITUDE]),
        helper.make_node("Mul", ["shaped", "amp"], ["scaled"]),
        _constant("shape", TensorProto.INT64, [1, 1, -1], dims=[3]),
        helper.make_node("Reshape", ["scaled", "shape"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "piper_standin_voice",
        inputs=[
            helper.make_tensor_value_info("input", TensorProto.INT64, [1, "phonemes"]),
            helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3]),
        ],
        outputs=[helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, "samples"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="talking-head-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _constant(name: str, dtype: int, values: list, dims: list[int] | None = None) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, dtype, dims or [], values))
