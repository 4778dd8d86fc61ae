# ai-intake as a container: `docker compose up` with compose.yaml beside this file (docs/deploying.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN pip install . \
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

# GET /healthz in HTTP mode (503 when the database or the scheduler is down); with the standard
# library only. Socket Mode serves no HTTP, so there the check only says the process is up.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; os.environ.get('SLACK_APP_TOKEN') or r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

ENTRYPOINT ["ai-intake"]
CMD ["run"]
