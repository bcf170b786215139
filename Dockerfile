# ayrshare-mcp: streamable HTTP on 0.0.0.0:8000 by default, or stdio with `--transport stdio`.
#   docker build -t ayrshare-mcp .
#   docker run --rm -p 8000:8000 -e AYRSHARE_MCP_TOKEN ayrshare-mcp     # callers send X-Ayrshare-Api-Key
#   docker run -i --rm -e AYRSHARE_API_KEY ayrshare-mcp --transport stdio
FROM python:3.12-slim

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /app

# Dependencies first, from the lock file alone: this layer is rebuilt only when they change.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY server ./server
RUN uv sync --frozen --no-dev --no-editable

RUN useradd --system --uid 10001 --no-create-home ayrshare
USER ayrshare

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1
EXPOSE 8000
# Over HTTP, /healthz answers; over stdio (`--transport stdio`) there is no port, and a running server is a healthy one.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD tr '\0' ' ' < /proc/1/cmdline | grep -qE -- '--transport[= ]stdio' \
        || python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"

# A public bind: Host/Origin checks stay on, and the server refuses to lend its own Ayrshare key unless
# AYRSHARE_MCP_TOKEN is set. Add --allowed-host NAME for the hostname clients use.
ENTRYPOINT ["ayrshare-mcp"]
CMD ["--transport", "streamable-http", "--host", "0.0.0.0", "--port", "8000"]
