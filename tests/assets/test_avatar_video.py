"""avatar_video's metadata: why 'auto' chose its backend, in a short line with the details beside it."""

import dagster as dg

from talking_head_dagster.assets.avatar_video import CHOICE_CHARS, backend_choice


def test_a_short_choice_stays_one_entry() -> None:
    assert backend_choice("auto: flashhead is usable on this machine") == {
        "backend_choice": "auto: flashhead is usable on this machine"
    }


def test_a_long_choice_is_a_short_line_and_a_list_of_reasons() -> None:
    reasons = ["no SoulX-FlashHead checkout at vendor/SoulX-FlashHead", "flashhead needs a CUDA GPU"]
    reasons += [f"missing models/weights/part{n}.safetensors" for n in range(6)]
    metadata = backend_choice("auto: flashhead is not usable here: " + "; ".join(reasons))
    assert metadata["backend_choice"] == "auto: flashhead is not usable here (why: see backend_choice_details)"
    assert len(metadata["backend_choice"]) <= CHOICE_CHARS
    details = metadata["backend_choice_details"]
    assert isinstance(details, dg.MarkdownMetadataValue)
    assert details.value.splitlines() == [f"- {reason}" for reason in reasons]
