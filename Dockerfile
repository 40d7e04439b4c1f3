# syntax=docker/dockerfile:1
# Two images from one file (compose.yaml builds both):
#   docker build --target cpu -t talking-head-dagster:cpu .  webserver, daemon, the CPU code location and its runs
#   docker build --target gpu -t talking-head-dagster:gpu .  the GPU code location and its runs (CUDA, PyTorch)
# Models (voices, FlashHead weights) and vendor code (SoulX-FlashHead) are mounted, never baked in.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm
ARG CUDA_DEVEL_IMAGE=nvidia/cuda:12.8.1-cudnn-devel-ubuntu24.04
ARG CUDA_RUNTIME_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# ---------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS cpu

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DAGSTER_HOME=/opt/dagster/home

RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /app
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md LICENSE ./
RUN uv sync --frozen --no-dev --no-install-project
COPY talking_head_dagster ./talking_head_dagster
COPY workspace.yaml ./
COPY deploy ./deploy
RUN uv sync --frozen --no-dev \
    && mkdir -p "$DAGSTER_HOME" /app/models /app/vendor /data/artifacts /data/output
# The embedded default's instance; compose.yaml mounts deploy/dagster.yaml (Postgres) over it.
COPY dagster.yaml $DAGSTER_HOME/dagster.yaml

VOLUME ["/app/models", "/app/vendor", "/data"]
ENV TALKING_HEAD_ARTIFACTS__LOCAL_DIR=/data/artifacts \
    TALKING_HEAD_PUBLISH__LOCAL_DIR=/data/output \
    TALKING_HEAD_SPEECH__MODELS_DIR=/app/models

RUN useradd --create-home --uid 10001 talkinghead \
    && chown -R talkinghead /opt/dagster /data /app/models /app/vendor
USER talkinghead

EXPOSE 4000
ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "talking_head_dagster.locations.cpu", "--location-name", "talking_head_cpu"]

# ---------------------------------------------------------------------------------------------------
# The GPU environment is built where the CUDA toolkit is (FlashAttention compiles against it) and
# copied into a runtime image with the same Python.
FROM ${CUDA_DEVEL_IMAGE} AS gpu-build

ENV DEBIAN_FRONTEND=noninteractive \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.12 python3.12-venv python3.12-dev build-essential git \
    && rm -rf /var/lib/apt/lists/* \
    && python3.12 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir uv==0.13.9

WORKDIR /app
COPY pyproject.toml uv.lock README.md LICENSE ./
# The gpu extra: PyTorch (CUDA wheels) and the packages SoulX-FlashHead's code imports, then FlashAttention
# built against it and the CUDA toolkit here (its build imports torch, hence no build isolation;
# MAX_JOBS bounds the compiler's memory).
RUN /opt/uv/bin/uv sync --frozen --no-dev --extra gpu --no-install-project --no-install-package flash-attn \
        --python python3.12 \
    && MAX_JOBS=4 /opt/uv/bin/uv pip install --python /opt/venv/bin/python --no-build-isolation \
        flash-attn==2.8.3.post2
COPY talking_head_dagster ./talking_head_dagster
COPY workspace.yaml ./
COPY deploy ./deploy
RUN /opt/uv/bin/uv sync --frozen --no-dev --extra gpu --inexact --no-install-package flash-attn --python python3.12

# ---------------------------------------------------------------------------------------------------
FROM ${CUDA_RUNTIME_IMAGE} AS gpu

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DAGSTER_HOME=/opt/dagster/home \
    TALKING_HEAD_ARTIFACTS__LOCAL_DIR=/data/artifacts \
    TALKING_HEAD_PUBLISH__LOCAL_DIR=/data/output \
    TALKING_HEAD_SPEECH__MODELS_DIR=/app/models \
    TALKING_HEAD_AVATAR__FLASHHEAD__VENDOR_DIR=/app/vendor/SoulX-FlashHead \
    TALKING_HEAD_AVATAR__FLASHHEAD__CKPT_DIR=/app/models/SoulX-FlashHead-1_3B \
    TALKING_HEAD_AVATAR__FLASHHEAD__WAV2VEC_DIR=/app/models/wav2vec2-base-960h
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.12 libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=gpu-build /opt/venv /opt/venv
COPY --from=gpu-build /app /app
COPY dagster.yaml $DAGSTER_HOME/dagster.yaml
WORKDIR /app
RUN mkdir -p /app/models /app/vendor /data/artifacts /data/output \
    && useradd --create-home --uid 10001 talkinghead \
    && chown -R talkinghead /opt/dagster /data /app/models /app/vendor
VOLUME ["/app/models", "/app/vendor", "/data"]
USER talkinghead

EXPOSE 4000
ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "talking_head_dagster.locations.gpu", "--location-name", "talking_head_gpu"]
