# Lotse with the bundled knowledge base, indexed at build time so the container answers at once.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    LOTSE_DATA_DIR=/data LOTSE_KNOWLEDGE_DIR=/app/knowledge
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY ingest ./ingest
COPY config ./config
COPY knowledge ./knowledge
RUN pip install --no-cache-dir ".[postgres]" && lotse ingest

RUN useradd --system --home /app lotse && chown -R lotse /data
USER lotse
VOLUME ["/data"]
ENTRYPOINT ["lotse"]
CMD ["chat"]
