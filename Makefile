# The two commands the README promises: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1

.PHONY: run test install install-test browser bench clean extension

run: install
	$(BIN)/assist serve

test: install-test browser
	$(BIN)/python -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# CPU torch first (from local disk here), so nothing resolves a CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e .
	touch $@

install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The browser tests drive Debian's chromium through Playwright's executable_path;
# Playwright's own browser downloads (`playwright install`) are never used.
browser:
	@command -v chromium >/dev/null || { \
	  if ! command -v apt-get >/dev/null; then \
	    echo "chromium not found and no apt-get: install chromium yourself or the browser tests fail"; exit 0; fi; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# The Chrome Web Store package of extension/ (runtime files only).
extension:
	$(PYTHON) extension/pack.py --out dist/assist-extension.zip

bench: install
	$(BIN)/python bench/suggest.py

clean:
	rm -rf $(VENV) instance .pytest_cache
