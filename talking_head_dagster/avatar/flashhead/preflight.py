"""Everything the flashhead backend needs from the machine, checked before any work.

Five checks, cheapest first: the upstream checkout (present, at the pinned commit), the weight
files (all present and complete), the packages upstream imports, the CUDA device, and its free
memory. ``run_preflight`` returns every result (the doctor prints them); ``require`` raises one
``DeploymentError`` listing every problem, so the operator fixes them in one go. What is asked
of the machine itself (GPU, packages) goes through a ``Machine``: tests stand one in.
"""

from dataclasses import dataclass

from talking_head_dagster.avatar.flashhead import upstream
from talking_head_dagster.avatar.flashhead.gitref import CommitUnknown, checkout_commit
from talking_head_dagster.avatar.flashhead.gpu import GIB, GpuInfo, GpuUnavailable
from talking_head_dagster.avatar.flashhead.machine import Machine, ThisMachine
from talking_head_dagster.avatar.flashhead.options import FlashHeadOptions
from talking_head_dagster.avatar.flashhead.weights import check_weights
from talking_head_dagster.errors import DeploymentError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Preflight:
    checks: list[Check]
    gpu: GpuInfo | None = None
    commit: str | None = None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def problems(self) -> list[str]:
        return [check.detail for check in self.checks if not check.ok]


def run_preflight(options: FlashHeadOptions, machine: Machine | None = None) -> Preflight:
    """Check the checkout, the weights, the packages, the GPU and its memory (of this machine by default)."""
    machine = machine or ThisMachine()
    checkout, commit = _check_checkout(options)
    weights = _check_weights(options)
    packages = _check_packages(machine)
    device, memory, gpu = _check_gpu(options, machine)
    return Preflight([checkout, weights, packages, device, memory], gpu=gpu, commit=commit)


def require(options: FlashHeadOptions, machine: Machine | None = None) -> Preflight:
    """``run_preflight``, raising a ``DeploymentError`` that lists every problem found."""
    report = run_preflight(options, machine)
    if not report.ok:
        lines = "\n".join(f"- {problem}" for problem in report.problems())
        raise DeploymentError(f"The flashhead avatar backend cannot run on this machine:\n{lines}")
    return report


def _check_checkout(options: FlashHeadOptions) -> tuple[Check, str | None]:
    root = options.vendor_dir
    if not (root / upstream.INFERENCE_FILE).is_file():
        detail = (
            f"no SoulX-FlashHead checkout at {root} ({upstream.INFERENCE_FILE} not found): "
            f"{upstream.checkout_instructions(root)}"
        )
        return Check("upstream checkout", False, detail), None
    try:
        commit = checkout_commit(root)
    except CommitUnknown as exc:
        return Check("upstream checkout", False, f"cannot tell the commit of {root}: {exc}"), None
    if commit != upstream.PINNED_COMMIT:
        detail = (
            f"{root} is at commit {commit}, the project is pinned to {upstream.PINNED_COMMIT}: "
            f"git -C {root} fetch origin && git -C {root} checkout {upstream.PINNED_COMMIT}"
        )
        return Check("upstream checkout", False, detail), commit
    return Check("upstream checkout", True, f"{root} at the pinned commit {commit}"), commit


def _check_weights(options: FlashHeadOptions) -> Check:
    status = check_weights(options.model_type, options.ckpt_dir, options.wav2vec_dir)
    name = f"{options.model_type} weights"
    if status.ok:
        return Check(name, True, f"{len(status.present)} files in {options.ckpt_dir} and {options.wav2vec_dir}")
    detail = (
        f"SoulX-FlashHead {options.model_type} weights are missing or incomplete "
        f"(download {upstream.MODEL_REPOSITORY} into {options.ckpt_dir} and {upstream.WAV2VEC_REPOSITORY} "
        f"into {options.wav2vec_dir}): " + "; ".join(status.problems())
    )
    return Check(name, False, detail)


def _check_packages(machine: Machine) -> Check:
    missing = machine.missing_modules(upstream.IMPORTED_MODULES)
    if missing:
        packages = " ".join(upstream.IMPORTED_MODULES[module] for module in missing)
        detail = f"SoulX-FlashHead's code imports packages missing here: install {packages} (see vendor/README.md)"
        return Check("upstream packages", False, detail)
    return Check("upstream packages", True, f"all {len(upstream.IMPORTED_MODULES)} packages upstream imports")


def _check_gpu(options: FlashHeadOptions, machine: Machine) -> tuple[Check, Check, GpuInfo | None]:
    try:
        gpu = machine.gpu()
    except GpuUnavailable as exc:
        reason = f"{exc}; flashhead needs a CUDA GPU"
        return Check("CUDA device", False, reason), Check("GPU memory", False, "no CUDA device to measure"), None
    needed = options.required_free_gib
    free = gpu.free_bytes / GIB
    if free < needed:
        detail = (
            f"{gpu.name} has {free:.1f} GiB free, the {options.model_type} model needs {needed:.1f} GiB "
            f"(free the GPU, or set AVATAR__FLASHHEAD__MIN_FREE_GPU_GIB if you know it needs less)"
        )
        memory = Check("GPU memory", False, detail)
    else:
        memory = Check("GPU memory", True, f"{free:.1f} GiB free, {needed:.1f} GiB needed")
    return Check("CUDA device", True, gpu.describe()), memory, gpu
