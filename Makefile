# Two commands on a fresh machine: `make serve` and `make test`. Everything else is a helper.
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export GRADIO_ANALYTICS_ENABLED ?= False

.PHONY: install serve test lint typecheck browser-deps pg-deps font-deps bench demo clean gpu-wheels gpu-check-tiny

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip setuptools wheel
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Debian chromium for the browser tests (Playwright drives it through executablePath).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed: browser tests will be skipped"; \
	  else echo "not root: install chromium yourself (apt-get install chromium) or browser tests skip"; fi; \
	fi

# Debian PostgreSQL server binaries for the catalog/worker tests (each test run starts its own
# throwaway server on loopback; nothing is configured system-wide).
pg-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	      || echo "postgresql could not be installed: PostgreSQL tests will be skipped"; \
	  else echo "not root: install postgresql yourself (apt-get install postgresql) or PostgreSQL tests skip"; fi; \
	fi

# A CJK font for the OCR test that draws Chinese text (tests/media/test_ocr.py).
font-deps:
	@if [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null) \
	      || echo "fonts-wqy-microhei could not be installed: the Chinese OCR test will be skipped"; \
	  else echo "not root: install fonts-wqy-microhei yourself or the Chinese OCR test skips"; fi; \
	fi

demo: install
	$(BIN)/vlsearch demo --if-missing

serve: install demo
	$(BIN)/vlsearch serve

test: install browser-deps pg-deps font-deps
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check vlsearch tests benchmarks
	$(BIN)/ruff format --check vlsearch tests benchmarks
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy vlsearch

bench: install
	$(BIN)/python benchmarks/search_latency.py
	$(BIN)/python benchmarks/ingest_speed.py
	$(BIN)/python benchmarks/server_vs_embedded.py
	$(BIN)/python benchmarks/workers_speed.py

# Wheels the GPU check needs on a lent GPU host (Python 3.12, torch + transformers preinstalled, no
# network): the versions installed here, downloaded into build/wheels (gitignored), which the run
# carries. benchmarks/gpu_check.py installs them there when they are missing.
GPU_WHEEL_PKGS := qwen-vl-utils pydantic pydantic-core pydantic-settings python-dotenv annotated-types typing-inspection
gpu-wheels: install
	rm -rf build/wheels && mkdir -p build/wheels
	$(BIN)/pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
	  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
	  -d build/wheels $$($(BIN)/python -c "from importlib.metadata import version as v; \
	  print(' '.join(f'{p}=={v(p)}' for p in '$(GPU_WHEEL_PKGS)'.split()))")
	ls build/wheels

gpu-check-tiny: install
	$(BIN)/python benchmarks/gpu_check.py --tiny --out test-artifacts/gpu_check_tiny.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
