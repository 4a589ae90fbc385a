# Lotse: slim, non-root, with the bundled knowledge base indexed at build time (SQLite and an embedded
# Chroma under /data), so `docker run -p 3978:3978 lotse` serves and answers at once. With a shared
# database and Chroma server (docker-compose.yml) the `init` service fills them once instead.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LOTSE_DATA_DIR=/data LOTSE_KNOWLEDGE_DIR=/app/knowledge PATH=/app/.venv/bin:$PATH
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY ingest ./ingest
COPY config ./config
COPY knowledge ./knowledge
# The install step is the README's first command, word for word (tests/operations/test_deployment.py).
RUN python3 -m venv .venv && .venv/bin/pip install -e .
RUN lotse ingest && useradd --system --home /app lotse && chown -R lotse /data

USER lotse
VOLUME ["/data"]
EXPOSE 3978
# ready = the database and the vector store answer (GET /readyz); python because the slim image has no curl
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3978/readyz', timeout=4)"]
# `docker stop` sends SIGTERM: Lotse stops taking events, finishes or hands over its turns within
# LOTSE_STOP_GRACE (20 s; a reply going out up to 10 s more) and exits 0; give it longer than that
# (docker stop -t 35, compose stop_grace_period)
STOPSIGNAL SIGTERM
ENTRYPOINT ["lotse"]
CMD ["serve", "--host", "0.0.0.0", "--port", "3978"]
