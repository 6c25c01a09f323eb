# Shared by scripts/test.sh and scripts/chaos.sh: find (or install) PostgreSQL, and start and stop
# throwaway clusters on 127.0.0.1 as a non-root user. Source it; it defines functions only.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=no
apt_install() {
  if [ "$apt_updated" = no ]; then as_root apt-get update -qq; apt_updated=yes; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Sets pg_bin (the newest installed PostgreSQL's bin folder), installing PostgreSQL when missing,
# and pg_user (who runs clusters: `postgres` when we are root, since initdb refuses root).
pg_setup() {
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    apt_install postgresql
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  pg_user=$(id -un)
  if [ "$(id -u)" = 0 ]; then
    pg_user=postgres
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  fi
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000))
}

# pg_start DIR PORT [extra server options]: initdb (first time) and start a cluster in DIR.
pg_start() {
  local dir=$1 port=$2; shift 2
  mkdir -p "$dir"; chown "$pg_user" "$dir" 2>/dev/null || true
  [ -d "$dir/data" ] || as_pg "$pg_bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  as_pg "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off $*" start >/dev/null
}

# pg_restart DIR PORT: fast shutdown (every connection cut, open transactions rolled back), then start.
pg_restart() {
  local dir=$1 port=$2
  as_pg "$pg_bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  pg_start "$dir" "$port"
}

pg_stop() { as_pg "$pg_bin/pg_ctl" -D "$1/data" -m immediate stop >/dev/null 2>&1 || true; }
