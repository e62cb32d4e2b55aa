#!/usr/bin/env bash
# Fetch the portal's pinned front-end files from the npm registry into web/static/vendor/ (not in git).
# The tarball's file is checked against the pinned SHA-256 before it is used. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX_VERSION=2.0.8
HTMX_SHA256=22283ef68cb7545914f0a88a1bdedc7256a703d1d580c1d255217d0a50d31313
dest=web/static/vendor/htmx.min.js
if [ -f "$dest" ] && echo "$HTMX_SHA256  $dest" | sha256sum -c --quiet 2>/dev/null; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The registry's tarball URL directly (curl): no Node.js needed on the server. NPM_REGISTRY points at a
# mirror on a closed network.
registry="${NPM_REGISTRY:-https://registry.npmjs.org}"
curl -fsSL --retry 3 -o "$tmp/htmx.tgz" "${registry%/}/htmx.org/-/htmx.org-${HTMX_VERSION}.tgz"
tar xzf "$tmp/htmx.tgz" -C "$tmp"
echo "$HTMX_SHA256  $tmp/package/dist/htmx.min.js" | sha256sum -c --quiet
mkdir -p web/static/vendor
cp "$tmp/package/dist/htmx.min.js" "$dest"
echo "web assets: htmx.org ${HTMX_VERSION} -> $dest"
