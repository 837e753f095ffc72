# One desk node. The same image runs every node of the shared setup (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY desk ./desk
COPY transcripts ./transcripts
RUN pip install .

RUN useradd --system --uid 10001 desk
USER desk
EXPOSE 8080
ENV DESK_HOST=0.0.0.0 DESK_PORT=8080
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz').status == 200 else 1)"
CMD ["desk", "serve"]
