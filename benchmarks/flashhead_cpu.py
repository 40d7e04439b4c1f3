"""Running the real upstream code on a machine without CUDA: a check of the code path, not of speed.

SoulX-FlashHead assumes CUDA: ``get_device`` returns ``"cuda"``, ``generate`` calls
``torch.cuda.synchronize()`` between steps, the model and VAE are ``torch.compile``d, and two
packages it imports do not import without a GPU (``xfuser`` probes for an accelerator at import;
PyPI's ``torchvision`` wheels are CUDA builds). ``use_cpu`` makes the pinned checkout run on the
CPU without editing it:

- ``xfuser``: empty stand-in modules for the names upstream imports; it calls them only with
  several GPUs (``world_size > 1``), never here;
- ``torchvision`` (only when it does not import): the one function upstream calls,
  ``transforms.functional.center_crop``, in plain PyTorch;
- ``torch.cuda.synchronize``: a no-op while CUDA is unavailable;
- upstream's ``get_device``: ``"cpu"``; ``COMPILE_MODEL`` / ``COMPILE_VAE``: off.

``CpuMachine`` answers the adapter's preflight for such a run (it reports the CPU as the device).
Nothing here is used by the product: ``benchmarks/flashhead.py --device cpu`` is its only user.
"""

import importlib
import importlib.machinery
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import torch

from talking_head_dagster.avatar.flashhead.gpu import GpuInfo
from talking_head_dagster.avatar.flashhead.machine import ThisMachine

_XFUSER_NAMES = {
    "xfuser.core.distributed": [
        "get_sequence_parallel_rank",
        "get_sequence_parallel_world_size",
        "get_sp_group",
        "get_world_group",
        "init_distributed_environment",
        "initialize_model_parallel",
    ],
    "xfuser.core.long_ctx_attention": ["xFuserLongContextAttention"],
}


class CpuMachine:
    """The preflight's view of a CUDA-less machine for a CPU check: the CPU stands in for the GPU."""

    def gpu(self) -> GpuInfo:
        import psutil

        memory = psutil.virtual_memory()
        return GpuInfo("CPU (no CUDA: a code-path check)", memory.total, memory.available, torch.__version__, "none")

    def missing_modules(self, modules: Iterable[str]) -> list[str]:
        return ThisMachine().missing_modules(modules)


def use_cpu(vendor_dir: Path) -> None:
    """Make the checkout at ``vendor_dir`` import and run on the CPU (see the module docstring)."""
    root = str(vendor_dir.resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    _stand_in_xfuser()
    _stand_in_torchvision_if_broken()
    if not torch.cuda.is_available():
        torch.cuda.synchronize = lambda *args, **kwargs: None
    usp_device = importlib.import_module("flash_head.src.distributed.usp_device")
    usp_device.get_device = lambda ulysses_degree, ring_degree: "cpu"
    pipeline = importlib.import_module("flash_head.src.pipeline.flash_head_pipeline")
    pipeline.COMPILE_MODEL = False
    pipeline.COMPILE_VAE = False


def _stand_in_xfuser() -> None:
    def not_on_one_device(*args, **kwargs):
        raise RuntimeError("xfuser stand-in: only for runs on one device")

    sys.modules.setdefault("xfuser", _module("xfuser"))
    sys.modules.setdefault("xfuser.core", _module("xfuser.core"))
    for name, attributes in _XFUSER_NAMES.items():
        module = _module(name)
        for attribute in attributes:
            setattr(module, attribute, not_on_one_device)
        sys.modules[name] = module


def _stand_in_torchvision_if_broken() -> None:
    try:
        importlib.import_module("torchvision.transforms")
        return
    except Exception:
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]

    def center_crop(tensor: torch.Tensor, size: list[int] | tuple[int, int]) -> torch.Tensor:
        height, width = size
        top = round((tensor.shape[-2] - height) / 2.0)
        left = round((tensor.shape[-1] - width) / 2.0)
        return tensor[..., top : top + height, left : left + width]

    functional = _module("torchvision.transforms.functional")
    functional.center_crop = center_crop
    transforms = _module("torchvision.transforms")
    transforms.functional = functional
    torchvision = _module("torchvision")
    torchvision.transforms = transforms
    sys.modules["torchvision"] = torchvision
    sys.modules["torchvision.transforms"] = transforms
    sys.modules["torchvision.transforms.functional"] = functional


def _module(name: str) -> ModuleType:
    """An empty module with a spec (other packages probe for these names with ``find_spec``)."""
    module = ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, loader=None)
    return module
