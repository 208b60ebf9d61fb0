# The two commands of the README: `make demo` and `make test`.
.PHONY: demo test lint install install-demo

# Everything `make test` needs: Debian packages, the project with its test tools, npm ci.
install:
	./scripts/bootstrap.sh test

# Only what the demo needs (issue 16: the demo starts in ≤ 60 s from a fresh environment).
install-demo:
	./scripts/bootstrap.sh demo

# Python writes the bytecode of what the demo imports on its first start, also where
# PYTHONDONTWRITEBYTECODE is set: else each of its processes (itself, the worker, the web server)
# compiles every module again at every start, seconds of CPU each. DEMO_ARGS: e.g. --port 5001.
demo: install-demo
	env -u PYTHONDONTWRITEBYTECODE .venv/bin/formservice demo $(DEMO_ARGS)

test: install
	./scripts/test.sh

lint: install
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports --no-logo \
		&& .venv/bin/mypy
