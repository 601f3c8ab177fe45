#!/usr/bin/env bash
# Runs pasarela with the development configuration (config/dev.toml): SQLite under data/,
# in-process ephemeral store, keys generated on first start, SMS written to an outbox, and a
# demo citizen (`pasarela dev seed`) whose login details are printed.
# Installs what the build needs first (idempotent). Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/common.sh

ensure_debian_packages "${BUILD_PACKAGES[@]}"
cargo build --release --bin pasarela
mkdir -p data
# A demo citizen who can log in at once (re-running resets their password).
./target/release/pasarela --config config/dev.toml dev seed
echo "==> pasarela on http://localhost:8080  (readiness: http://localhost:8080/readyz)"
exec ./target/release/pasarela --config config/dev.toml serve
