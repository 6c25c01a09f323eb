# Shared by scripts/test.sh (and the benchmarks): find (or install) MariaDB, and start and stop
# throwaway servers on 127.0.0.1 as a non-root user. Source scripts/lib/postgres.sh first (for
# as_root and apt_install); this file defines functions only.

# Sets maria_bin (the folder holding mariadbd and mariadb-install-db), installing the server and
# the client library (libmariadb, which backfill loads at run time) when missing, and maria_user
# (who runs servers: `mysql` when we are root).
maria_setup() {
  if ! command -v mariadb-install-db >/dev/null || [ ! -x /usr/sbin/mariadbd ] \
    || ! ldconfig -p | grep -q 'libmariadb\.so\.3'; then
    apt_install mariadb-server libmariadb-dev
  fi
  maria_bin=/usr/sbin
  maria_user=$(id -un)
  if [ "$(id -u)" = 0 ]; then
    maria_user=mysql
    id mysql >/dev/null 2>&1 || useradd --system --no-create-home mysql
  fi
}

# maria_start DIR PORT [server options]: creates a data folder in DIR (first time) and starts a
# server on 127.0.0.1:PORT whose root logs in without a password from 127.0.0.1; waits until it answers.
maria_start() {
  local dir=$1 port=$2; shift 2
  mkdir -p "$dir"; chown "$maria_user" "$dir" 2>/dev/null || true
  if [ ! -d "$dir/data/mysql" ]; then
    mariadb-install-db --no-defaults --datadir="$dir/data" --user="$maria_user" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1
  fi
  "$maria_bin/mariadbd" --no-defaults --datadir="$dir/data" --user="$maria_user" --port="$port" \
    --bind-address=127.0.0.1 --socket="$dir/sock" --pid-file="$dir/pid" --skip-name-resolve \
    --innodb-flush-log-at-trx-commit=2 --innodb-buffer-pool-size=128M --max-connections=400 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_bin "$@" >"$dir/server.log" 2>&1 &
  echo $! >"$dir/mariadbd.pid"
  local tries=0
  until mariadb --no-defaults -h 127.0.0.1 -P "$port" -u root -e 'SELECT 1' >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 120 ] || ! kill -0 "$(cat "$dir/mariadbd.pid")" 2>/dev/null; then
      echo "MariaDB did not start in $dir:" >&2; tail -20 "$dir/server.log" >&2; return 1
    fi
    sleep 0.5
  done
}

# maria_replica DIR PORT PRIMARY_PORT: a second server in DIR on PORT replicating everything the
# primary on PRIMARY_PORT (started with --log-bin --server-id=1) writes, from its first binary log.
maria_replica() {
  local dir=$1 port=$2 primary=$3
  maria_start "$dir" "$port" --server-id=2 --read-only --relay-log=relay || return 1
  mariadb --no-defaults -h 127.0.0.1 -P "$port" -u root -e "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$primary,
    MASTER_USER='root', MASTER_USE_GTID=no, MASTER_LOG_FILE='binlog.000001', MASTER_LOG_POS=4; START SLAVE"
}

maria_stop() {
  local pid
  pid=$(cat "$1/mariadbd.pid" 2>/dev/null) || return 0
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
