# CPU image: the talking_head_dagster code location (gRPC code server on port 4000).
# Build: docker build -t talking-head-dagster .
# The same image runs the webserver and daemon with another command (see README, "Deploy").
FROM python:3.12-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DAGSTER_HOME=/opt/dagster/home

RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /app
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY talking_head_dagster ./talking_head_dagster
COPY workspace.yaml ./
RUN uv sync --frozen --no-dev \
    && mkdir -p "$DAGSTER_HOME" /app/models /app/vendor /data/artifacts /data/output
COPY dagster.yaml $DAGSTER_HOME/dagster.yaml

# Models (voices) and vendor code are mounted, never baked in.
VOLUME ["/app/models", "/app/vendor", "/data"]
ENV TALKING_HEAD_ARTIFACTS__LOCAL_DIR=/data/artifacts \
    TALKING_HEAD_PUBLISH__LOCAL_DIR=/data/output \
    TALKING_HEAD_SPEECH__MODELS_DIR=/app/models

RUN useradd --create-home --uid 10001 talkinghead \
    && chown -R talkinghead /opt/dagster /data /app/models /app/vendor
USER talkinghead

EXPOSE 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "talking_head_dagster.definitions"]
