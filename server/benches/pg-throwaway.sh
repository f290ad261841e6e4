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
