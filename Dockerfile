# One image for `pony api` and `pony worker` (see compose.yaml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN pip install . && rm -rf build ./*.egg-info

RUN useradd --create-home --uid 10001 pony
USER pony
WORKDIR /home/pony

EXPOSE 8000
CMD ["pony", "api", "--host", "0.0.0.0", "--port", "8000"]
