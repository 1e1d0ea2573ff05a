# community-bot: the webhook server, as a non-root user, configured from the environment.
# Build: docker build -t community-bot .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md app.yaml ./
COPY bot ./bot
COPY handlers ./handlers
COPY templates ./templates
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 bot && mkdir -p /data && chown bot /data
COPY --from=build /install /usr/local
USER bot
# The working directory is the volume: SQLite's file (the default database) and the .env and
# key file that the setup page writes survive a new container. Set GITHUB_* (and
# DATABASE_URL for PostgreSQL) when running it, or register through the setup page.
WORKDIR /data
# Listen on every interface inside the container.
ENV HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/community-bot.db \
    PYTHONUNBUFFERED=1
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/healthz\", timeout=4).status != 200)"]
CMD ["community-bot", "serve"]
