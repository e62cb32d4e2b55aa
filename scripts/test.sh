#!/usr/bin/env bash
# Install what the tests need, then run lint, type checks and the whole test suite against the real
# components (PostgreSQL, Asterisk, Rasa, Vosk). Idempotent: safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy .
echo "==> pytest"
# Whatever happens, leave no process or mount of the test run behind in the data directory (a hotline
# that was already running is left alone).
before="$(mktemp)"
bash scripts/leftovers.sh snapshot var >"$before"
trap 'bash scripts/leftovers.sh clean var "$before"; rm -f "$before"' EXIT
# Two workers by default (HOTLINE_TEST_WORKERS=0 runs in one process); each worker starts its own
# Asterisk instance and Rasa server on free ports, so they never share a call.
.venv/bin/pytest -n "${HOTLINE_TEST_WORKERS:-2}" --dist worksteal "$@"
