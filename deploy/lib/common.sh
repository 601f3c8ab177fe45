# Shared helpers for pasarela's scripts: idempotent installation of what the project needs
# from Debian's packages. Sourced, not run.

# Runs a command as root (directly when we are root, through sudo otherwise).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages given that are not installed yet; does nothing (and needs no
# network) when all are present.
ensure_debian_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Packages needed to build pasarela itself.
# mold: the linker .cargo/config.toml names.
BUILD_PACKAGES=(pkg-config libssl-dev ca-certificates libxmlsec1-dev libclang-dev mold)

# The newest PostgreSQL server binaries Debian installed.
pg_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# A free TCP port on the loopback interface.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Throwaway PostgreSQL and Redis servers on free loopback ports, their files under the
# directory given (which the caller removes after stop_throwaway_backends). Sets PG_PORT and
# REDIS_PORT. Extra PostgreSQL options follow the directory (e.g. "-c fsync=off"); a command
# prefix in the array BACKEND_CPU (e.g. taskset -c 1) runs both servers on chosen CPUs.
# PostgreSQL refuses to run as root: the cluster then runs as the postgres user.
start_throwaway_backends() { # work [postgres options…]
  local work=$1 bindir
  shift
  bindir=$(pg_bindir)
  PG_CTL="$bindir/pg_ctl"
  PG_DATA="$work/pg"
  RUN_PG=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$work"
    RUN_PG=(runuser -u postgres --)
  fi
  local cpu=("${BACKEND_CPU[@]+"${BACKEND_CPU[@]}"}")
  PG_PORT=$(free_port)
  "${RUN_PG[@]}" "$bindir/initdb" -D "$PG_DATA" -A trust -U postgres --no-sync >/dev/null
  "${RUN_PG[@]}" "${cpu[@]}" "$PG_CTL" -D "$PG_DATA" -w -l "$work/pg.log" \
    -o "-p $PG_PORT -k $work -c listen_addresses=127.0.0.1 -c max_connections=200 $*" start >/dev/null
  echo "==> PostgreSQL on 127.0.0.1:$PG_PORT"
  REDIS_PORT=$(free_port)
  "${cpu[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --dir "$work" --logfile "$work/redis.log" >/dev/null
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "==> Redis on 127.0.0.1:$REDIS_PORT"
}

# Stops what start_throwaway_backends started (safe to call when it did not run or failed).
stop_throwaway_backends() {
  [ -n "${PG_CTL:-}" ] && [ -d "${PG_DATA:-/nonexistent}" ] &&
    "${RUN_PG[@]+"${RUN_PG[@]}"}" "$PG_CTL" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1
  [ -n "${REDIS_PORT:-}" ] && redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1
  return 0
}
