# ai-intake as a container: `docker compose up` with compose.yaml beside this file (docs/deploying.md).
#
# The base image is pinned by digest, so two builds a week apart start from the same bytes. The digest is
# that of the multi-platform index `python:3.11-slim` pointed to when it was pinned (it is the same on
# Docker Hub and on public.ecr.aws/docker/library); it was not pulled here. To move to a newer base, look
# up the tag's digest now (`docker buildx imagetools inspect python:3.11-slim`) and change it here, or
# pass one for a single build: `docker build --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:… .`
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The locked dependencies first (their layer is rebuilt only when the lock changes), every file checked
# against its hash; then the package itself, with no dependency of its own choosing.
COPY requirements/run.txt ./requirements/run.txt
RUN python -m pip install --require-hashes -r requirements/run.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN python -m pip install --no-deps . \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin ai-intake \
    && mkdir -p /data /config \
    && chown ai-intake:ai-intake /data

# The database lives on the volume; the config is mounted read-only (compose.yaml).
ENV AI_INTAKE_DB=/data/ai-intake.db \
    AI_INTAKE_CONFIG=/config/ai-intake.yml \
    HOST=0.0.0.0 \
    PORT=3000
VOLUME ["/data"]
USER ai-intake
WORKDIR /data
EXPOSE 3000

# Liveness: GET /healthz answers 200 while the process serves and its writer is not wedged (a stopped
# outbox or an unreachable Slack is /readyz's business, not a reason to restart). With the standard
# library only. Socket Mode serves no HTTP, so there the check only says the process is up.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; os.environ.get('SLACK_APP_TOKEN') or r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

ENTRYPOINT ["ai-intake"]
CMD ["run"]
