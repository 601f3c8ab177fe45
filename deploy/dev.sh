#!/usr/bin/env bash
# Runs pasarela with the development configuration (config/dev.toml): SQLite under data/,
# in-process ephemeral store, keys generated on first start, SMS written to an outbox, and a
# demo citizen (`pasarela dev seed`) whose login details are printed. Beside it runs the demo
# e-office (`pasarela-demo`, a relying service over OIDC and SAML) on http://localhost:8081.
# Installs what the build needs first (idempotent). Stop with Ctrl-C (both stop).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/common.sh

ensure_debian_packages "${BUILD_PACKAGES[@]}"
cargo build --release --bin pasarela --bin pasarela-demo
bin="${CARGO_TARGET_DIR:-target}/release"
mkdir -p data
# A demo citizen who can log in at once (re-running resets their password).
"$bin/pasarela" --config config/dev.toml dev seed

pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

"$bin/pasarela" --config config/dev.toml serve &
pids+=($!)
# The demo's defaults match config/dev.toml: issuer http://localhost:8080, client sede-demo
# with the development secret, SAML SP http://localhost:8081/saml/metadata.
"$bin/pasarela-demo" --bind 127.0.0.1:8081 --public-url http://localhost:8081 \
  --issuer http://localhost:8080 &
pids+=($!)

cat <<'MSG'
==> pasarela on http://localhost:8080  (readiness: http://localhost:8080/readyz)
==> demo e-office on http://localhost:8081  (open it and choose a service)
    SMS codes are shown at http://localhost:8080/dev/sms
MSG
# Stop both when either ends.
wait -n
