.PHONY: run test lint
# One command to set everything up and run the app on embedded defaults.
run:
	scripts/run.sh
# One command to run the whole test suite (against the local PostgreSQL).
test:
	scripts/test.sh
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
