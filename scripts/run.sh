#!/usr/bin/env bash
# Set up everything and run the hotline in the foreground (Ctrl-C stops it). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/hotline up "$@"
