# The two commands of the README: `make demo` and `make test`.
.PHONY: demo test lint install

install:
	./scripts/bootstrap.sh

demo: install
	.venv/bin/formservice demo

test: install
	./scripts/test.sh

lint: install
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports --no-logo \
		&& .venv/bin/mypy
