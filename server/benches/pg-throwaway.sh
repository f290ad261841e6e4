# Sourced by the bench scripts: `pg_throwaway DIR` starts a throwaway PostgreSQL from the Debian
# packages in DIR (as nobody when run as root; initdb refuses root) on a free loopback port and
# sets PGURL; `pg_throwaway_stop DIR` stops it. Returns 1 when the binaries are missing.
pg_throwaway() {
  local dir=$1
  command -v pg_config >/dev/null || return 1
  PGBIN=$(pg_config --bindir)
  [ -x "$PGBIN/initdb" ] || return 1
  mkdir -p "$dir"
  AS_PG=""
  if [ "$(id -u)" = 0 ]; then chmod a+x "$(dirname "$dir")"; chown nobody: "$dir"; AS_PG="setpriv --reuid=nobody --regid=nogroup --clear-groups"; fi
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  $AS_PG "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
  $AS_PG "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
  PGURL="postgres://postgres@127.0.0.1:$port/postgres"
}
pg_throwaway_stop() {
  $AS_PG "$PGBIN/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null 2>&1 || true
}

# `bench_setup NAME`: what the PostgreSQL benches share. Builds the release binaries, sets
# SERVER, CLIENT, PIN (default 1), a work folder WORK removed at exit (with the server of
# SERVER_PID killed and the throwaway PostgreSQL stopped when PGPID is set), and `pin CORE`.
bench_setup() {
  PIN=${PIN:-1}
  cargo build --release -q -p dossier-server -p dossier-client
  SERVER=$PWD/target/release/dossier-server
  CLIENT=$PWD/target/release/dossier
  WORK=$(mktemp -d "/tmp/dossier-$1-bench.XXXXXX")
  PGPID=""
  trap bench_cleanup EXIT
}
bench_cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill -9 "$SERVER_PID" 2>/dev/null || true
  if [ -n "$PGPID" ]; then pg_throwaway_stop "$WORK/pg"; fi
  rm -rf "$WORK"
}
# A command prefix, not a function: `taskset` execs the program, so `$!` is the server itself.
pin() { if [ "$PIN" = 1 ]; then echo taskset -c "$1"; fi; }
