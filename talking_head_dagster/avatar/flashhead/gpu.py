"""The CUDA device this process would render on, asked of PyTorch (imported only here, lazily)."""

import importlib.util
from dataclasses import dataclass

GIB = 1 << 30


class GpuUnavailable(Exception):
    """No usable CUDA device; the message says why (PyTorch missing, a CPU build, no device...)."""


@dataclass(frozen=True)
class GpuInfo:
    name: str
    total_bytes: int
    free_bytes: int
    torch_version: str
    cuda_version: str

    def describe(self) -> str:
        return (
            f"{self.name}, {self.free_bytes / GIB:.1f} GiB free of {self.total_bytes / GIB:.1f} GiB "
            f"(torch {self.torch_version}, CUDA {self.cuda_version})"
        )


def probe_gpu() -> GpuInfo:
    """The current CUDA device (the one upstream's ``"cuda"`` means) and its free memory."""
    if importlib.util.find_spec("torch") is None:
        raise GpuUnavailable("PyTorch is not installed: install the project's gpu extra (uv sync --extra gpu)")
    try:
        import torch

        if not torch.cuda.is_available():
            build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
            raise GpuUnavailable(f"no CUDA device is visible to torch {torch.__version__} ({build})")
        free, total = torch.cuda.mem_get_info()
        return GpuInfo(
            name=torch.cuda.get_device_name(),
            total_bytes=int(total),
            free_bytes=int(free),
            torch_version=str(torch.__version__),
            cuda_version=str(torch.version.cuda),
        )
    except GpuUnavailable:
        raise
    except Exception as exc:  # a broken driver or install shows up here, whatever its class
        raise GpuUnavailable(f"cannot query the CUDA device: {exc.__class__.__name__}: {exc}") from exc
