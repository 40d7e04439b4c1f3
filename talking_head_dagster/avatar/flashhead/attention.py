"""Which attention kernel upstream's model runs with, for the asset metadata and the doctor.

Upstream chooses by itself when its model module is imported, first available of: SageAttention,
FlashAttention 3 (``flash_attn_interface``), FlashAttention 2 (``flash_attn``), and otherwise
PyTorch's ``scaled_dot_product_attention`` (SDPA). Once upstream is imported its own flags are
the truth; before that, the installed packages tell what it will pick.
"""

import sys

from talking_head_dagster.avatar.flashhead.machine import installed

MODEL_MODULE = "flash_head.src.modules.flash_head_model"

# (name reported, package upstream tries, upstream's flag), in upstream's order of preference.
KERNELS = (
    ("sageattention", "sageattention", "SAGE_ATTN_AVAILABLE"),
    ("flash_attn_3", "flash_attn_interface", "FLASH_ATTN_3_AVAILABLE"),
    ("flash_attn_2", "flash_attn", "FLASH_ATTN_2_AVAILABLE"),
)
SDPA = "sdpa"


def attention_backend() -> str:
    """``sageattention``, ``flash_attn_3``, ``flash_attn_2`` or ``sdpa``."""
    model = sys.modules.get(MODEL_MODULE)
    for name, package, flag in KERNELS:
        available = getattr(model, flag) if hasattr(model, flag) else installed(package)
        if available:
            return name
    return SDPA
