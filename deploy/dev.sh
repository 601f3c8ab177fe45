#!/usr/bin/env bash
# Runs pasarela with the development configuration (config/dev.toml): SQLite under data/,
# in-process ephemeral store, keys generated on first start, SMS written to an outbox.
# Installs what the build needs first (idempotent). Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/common.sh

ensure_debian_packages "${BUILD_PACKAGES[@]}"
cargo build --release --bin pasarela
echo "==> pasarela on http://localhost:8080  (readiness: http://localhost:8080/readyz)"
exec ./target/release/pasarela --config config/dev.toml serve
