# The two commands of the README: `make demo` and `make test`.
.PHONY: demo test lint install install-demo

# Everything `make test` needs: Debian packages, the project with its test tools, npm ci.
install:
	./scripts/bootstrap.sh test

# Only what the demo needs (issue 16: the demo starts in ≤ 60 s from a fresh environment).
install-demo:
	./scripts/bootstrap.sh demo

demo: install-demo
	.venv/bin/formservice demo

test: install
	./scripts/test.sh

lint: install
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports --no-logo \
		&& .venv/bin/mypy
