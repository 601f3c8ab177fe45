#!/usr/bin/env bash
# Runs every test of pasarela: formatting, lints, unit tests, the integration binary and the
# storage suites against real PostgreSQL and Redis servers. Installs what it needs from
# Debian's packages (idempotent), starts a throwaway PostgreSQL cluster and Redis server on
# loopback ports, and removes them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/common.sh

# chromium + chromium-driver: the headless browser walk of the citizen journey.
ensure_debian_packages "${BUILD_PACKAGES[@]}" postgresql redis-server python3 chromium chromium-driver xmlsec1

work=$(mktemp -d /tmp/pasarela-test.XXXXXX)
cleanup() {
  set +e
  [ -n "${peers_pid:-}" ] && kill "$peers_pid" 2>/dev/null
  stop_throwaway_backends
  rm -rf "$work"
}
trap cleanup EXIT
# fsync off: a test cluster keeps nothing worth a disk flush.
start_throwaway_backends "$work" -c fsync=off

export TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/"
# The storage suites fail (rather than skip) when a backend is missing.
export TEST_REQUIRE_BACKENDS=1

# The peers' system packages (the machine's Node is used when present); apt runs here, not in
# the background, so that no two installs contend for its lock.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  ensure_debian_packages nodejs npm
fi
ensure_debian_packages python3-venv python3-lxml python3-xmlsec xmlsec1 openssl
# The peer tests fail (rather than skip) when a peer is missing.
export TEST_REQUIRE_PEERS=1

# The peers install in the background while the one compilation below runs: npm and pip
# wait on the network, the compiler on the two cores.
install_peers() {
  # OIDC peer
  # panva's openid-client (npm) as a relying party pasarela did not write
  # (tests/it/oidc_peer.rs). Installed from the committed lock only when node_modules is missing
  # or the lock changed since the last install.
  peer=tests/peers/oidc
  peer_lock=$(sha256sum "$peer/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$peer/node_modules/.lock.sha256" 2>/dev/null)" != "$peer_lock" ]; then
    echo "==> npm ci ($peer)"
    npm ci --prefix "$peer" --no-audit --no-fund --loglevel=error
    echo "$peer_lock" >"$peer/node_modules/.lock.sha256"
  fi

  # SAML peers: pysaml2 and python3-saml (PyPI, pinned in tests/peers/saml/requirements.txt) in
  # target/peers-venv, over Debian's python3-lxml and python3-xmlsec so that lxml and xmlsec
  # share Debian's libxml2. Created once, reused by later runs; the peer tests fail (rather
  # than skip) without it.
  tests/peers/saml/install.sh
}
install_peers >"$work/peers.log" 2>&1 &
peers_pid=$!

echo "==> cargo fmt --check"
cargo fmt --all -- --check

# One compilation for the lints and the tests: clippy-driver, as cargo's wrapper for this
# package's own crates, lints every target while it compiles it for the tests (dependencies
# are built once, normally). `cargo clippy` followed by `cargo test` built everything twice.
echo "==> cargo clippy + build (one compilation, -D warnings)"
# The test run below keeps the same wrapper, or cargo would compile the crates again.
RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
cargo test --all-targets --no-run --quiet

if ! wait "$peers_pid"; then
  cat "$work/peers.log"
  echo "peer installation failed" >&2
  exit 1
fi
cat "$work/peers.log"

echo "==> cargo test"
cargo test --all-targets --quiet
