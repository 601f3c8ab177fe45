#!/usr/bin/env bash
# Benchmarks pasarela and prints one table: requests/s, requests per server CPU-second,
# p50/p99 latency and resident memory for discovery, JWKS, client_credentials, code exchange
# (RS256 and ES256 ID tokens), introspection and a SAML SSO Response; full citizen logins per
# second beside the bare Argon2id hash rate; the peak of concurrent password hashes against
# its bound. Once on SQLite + the in-process store, once on PostgreSQL + Redis.
#
# Release build, loopback only. pasarela runs pinned to CPU 0 and the load driver
# (src/bin/pasarela-bench) with PostgreSQL and Redis on CPU 1 when the machine has two.
# Installs what it needs from Debian's packages (idempotent); every deployment, database
# and server is throwaway and removed afterwards. Never part of tests/all.sh.
#
#   deploy/bench.sh            10 s of load per scenario (a whole run takes ~5 minutes)
#   deploy/bench.sh --quick    3 s per scenario
#   BENCH_SECS=30 deploy/bench.sh
#   BENCH_CONNECTIONS=64 BENCH_CITIZENS=8 …   connections, citizens logging in at once
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/common.sh

secs=${BENCH_SECS:-10}
[ "${1:-}" = "--quick" ] && secs=${BENCH_SECS:-3}
connections=${BENCH_CONNECTIONS:-64}
citizens=${BENCH_CITIZENS:-8}

ensure_debian_packages "${BUILD_PACKAGES[@]}" postgresql redis-server python3 util-linux
echo "==> cargo build --release"
cargo build --release --quiet --bin pasarela --bin pasarela-bench
bin="${CARGO_TARGET_DIR:-target}/release"

work=$(mktemp -d /tmp/pasarela-bench.XXXXXX)
cleanup() {
  set +e
  stop_throwaway_backends
  rm -rf "$work"
}
trap cleanup EXIT

# Two CPUs or more: pasarela alone on CPU 0, everything else on CPU 1.
server_cpu=()
load=()
if [ "$(nproc)" -ge 2 ]; then
  server_cpu=(--server-cpu 0)
  load=(taskset -c 1)
fi

# A production-like configuration except for what a loopback benchmark needs: an http issuer
# (dev.enabled, which also creates the key-encryption key; the dev pages stay off), SMS to an
# outbox file the driver reads the codes from, and the per-address and SMS quotas lifted, since
# every citizen logs in from 127.0.0.1 again and again. Argon2id keeps its default cost.
write_config() { # dir database_url ephemeral_toml
  local dir=$1 port
  port=$(free_port)
  mkdir -p "$dir"
  cat >"$dir/pasarela.toml" <<EOF
public_url = "http://127.0.0.1:$port"
[server]
bind = "127.0.0.1:$port"
[database]
url = "$2"
$3
[keys]
kek_file = "$dir/kek.b64"
[dev]
enabled = true
pages = false
[sms]
provider = "outbox"
outbox_path = "$dir/sms.jsonl"
[sms.quota]
per_number_per_hour = 1000000
per_number_per_day = 1000000
global_per_minute = 1000000
[email]
provider = "outbox"
outbox_path = "$dir/email.jsonl"
[login]
per_address_per_minute = 1000000
EOF
}

run_backend() { # name dir
  "${load[@]}" "$bin/pasarela-bench" run --pasarela "$bin/pasarela" --config "$2/pasarela.toml" \
    --backend "$1" --out "$2/report.json" "${server_cpu[@]}" --secs "$secs" \
    --connections "$connections" --citizens "$citizens" >/dev/null
}

write_config "$work/sqlite" "sqlite://$work/sqlite/pasarela.db" $'[ephemeral]\nbackend = "memory"'
run_backend "SQLite + memory" "$work/sqlite"

# fsync stays on: the figures should be those of a database that keeps its data. Both
# servers share the load's CPU.
BACKEND_CPU=("${load[@]+"${load[@]}"}")
start_throwaway_backends "$work"
write_config "$work/pg" "postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
  $'[ephemeral]\nbackend = "redis"\nredis_url = "redis://127.0.0.1:'"$REDIS_PORT"$'/"'
run_backend "PostgreSQL + Redis" "$work/pg"

echo
echo "pasarela benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1), $(uname -sr)"
echo "build: release profile; pasarela pinned to CPU ${server_cpu[1]:-any}, load on CPU ${load[2]:-any}; ${secs} s per scenario, $connections connections, $citizens citizens logging in at once"
echo
"$bin/pasarela-bench" table "$work/sqlite/report.json" "$work/pg/report.json"
