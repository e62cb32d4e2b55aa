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
.venv/bin/pytest "$@"
