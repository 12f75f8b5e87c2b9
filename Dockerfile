# vlsearch API / worker image. Dependencies sit in their own layers, so editing the code rebuilds
# only the last layer. Weights are not baked in: mount them at /models (HF_HOME) or use hub names.
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HOME=/models

RUN apt-get update \
 && apt-get install -y --no-install-recommends curl libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# 1) torch alone: the largest layer, changes least often (CUDA wheels from PyPI).
RUN --mount=type=cache,target=/root/.cache/pip pip install torch==2.14.1 torchvision==0.29.1

# 2) the rest of the dependencies, from pyproject.toml only (a stub package makes pip resolve them).
COPY pyproject.toml README.md ./
RUN --mount=type=cache,target=/root/.cache/pip \
    mkdir -p vlsearch && touch vlsearch/__init__.py \
 && pip install . "psycopg[binary]>=3.2" \
 && pip uninstall -y vlsearch && rm -rf vlsearch build

# 3) the code.
COPY vlsearch ./vlsearch
COPY docker ./docker
RUN pip install --no-deps .

RUN useradd --create-home --uid 10001 vlsearch && mkdir -p /data /models && chown vlsearch /data /models
USER vlsearch
VOLUME ["/data", "/models"]
EXPOSE 8000
CMD ["vlsearch", "serve", "--host", "0.0.0.0", "--port", "8000"]
