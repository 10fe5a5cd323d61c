# shopml — the two commands: `make demo` and `make test`. Each (re)builds .venv from pyproject.toml
# with every extra (a serving-only install is `pip install shopml`; see pyproject.toml).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck pytest docs bench clean data

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev,docs]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/shopml demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest -q

# the documentation site, built offline into site/ (strict: a broken link, a missing page or a
# reference that no longer matches the code fails the build)
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

test: lint typecheck pytest docs

# Fashion-MNIST for `shopml train --task images` (Debian's dataset-fashion-mnist, files in
# /usr/share/datasets/fashion-mnist/): installed when missing and running as root; shopml never downloads
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
data:
	@if [ -f $(FMNIST) ]; then echo "Fashion-MNIST is in $(dir $(FMNIST))"; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get install -y dataset-fashion-mnist || { apt-get update && apt-get install -y dataset-fashion-mnist; }; \
	else echo "Fashion-MNIST is missing: run 'sudo apt-get install dataset-fashion-mnist' (or 'sudo make data')"; exit 1; fi

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) workspace site .pytest_cache .mypy_cache .ruff_cache
