# Sourced by scripts/test (after emulators.sh) and scripts/bench: a throwaway PostgreSQL server for the store's
# tests, initialised in a temporary folder on a free loopback port (as the `postgres` user when
# run as root, since the server refuses root), and Debian's `postgresql` package installed
# first where the machine lacks it. Sets NOTIFY_TEST_POSTGRES_URL (the server; each test makes
# its own database), NOTIFY_TEST_POOLER_URL (PgBouncer in transaction mode in front of it, with
# SCRAM-SHA-256 passwords, as Neon's pooled connection string is) and
# NOTIFY_TEST_PG_CTL (a command taking `stop` or `start`, for outage tests); stops both on exit.

emulators="${emulators:-$root/.emulators}"
mkdir -p "$emulators"
declare -F free_port >/dev/null || free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "installing PostgreSQL..." >&2
  sudo_=(); [ "$(id -u)" = 0 ] || sudo_=(sudo)
  "${sudo_[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_[@]}" apt-get install -y -qq postgresql >/dev/null
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
fi

pg_dir="$(mktemp -d)"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$pg_dir"
  as_pg=(runuser -u postgres --)
fi
pg_port="$(free_port)"
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust --no-sync >"$emulators/postgres-init.log" 2>&1
cat >"$emulators/pg_ctl" <<SCRIPT
#!/usr/bin/env bash
# stop: an outage at once (immediate); start: back on the same port with its data.
case "\$1" in
  stop) exec ${as_pg[*]} "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop ;;
  start) exec ${as_pg[*]} "$pg_bin/pg_ctl" -D "$pg_dir/data" -w -l "$pg_dir/log" -o "-h 127.0.0.1 -p $pg_port -k $pg_dir -F" start ;;
esac
SCRIPT
chmod +x "$emulators/pg_ctl"
"$emulators/pg_ctl" start >/dev/null

# PgBouncer in transaction mode in front of it, asking for a password with SCRAM-SHA-256, as
# Neon's pooled connection string is: the store must work through it, and a cold start's
# connection pays for SCRAM's key derivation there.
if ! command -v pgbouncer >/dev/null; then
  echo "installing PgBouncer..." >&2
  sudo_=(); [ "$(id -u)" = 0 ] || sudo_=(sudo)
  "${sudo_[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_[@]}" apt-get install -y -qq pgbouncer >/dev/null
fi
pooler_port="$(free_port)"
# The list holds the password's SCRAM secret, as a PostgreSQL server or Neon's proxy keeps it
# (only the client derives its key; a plain-text password would have PgBouncer derive it too).
pooler_password="notify-pooler-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
python3 - "$pooler_password" >"$pg_dir/userlist.txt" <<'PY'
import base64, hashlib, hmac, os, sys
salt, b64 = os.urandom(16), lambda b: base64.b64encode(b).decode()
salted = hashlib.pbkdf2_hmac("sha256", sys.argv[1].encode(), salt, 4096)
stored = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
server = hmac.digest(salted, b"Server Key", "sha256")
print(f'"postgres" "SCRAM-SHA-256$4096:{b64(salt)}${b64(stored)}:{b64(server)}"')
PY
cat >"$pg_dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pg_port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $pooler_port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $pg_dir/userlist.txt
pool_mode = transaction
max_client_conn = 200
default_pool_size = 10
ignore_startup_parameters = extra_float_digits,options
logfile = $pg_dir/pgbouncer.log
pidfile = $pg_dir/pgbouncer.pid
INI
[ "$(id -u)" = 0 ] && chown postgres: "$pg_dir/userlist.txt" "$pg_dir/pgbouncer.ini"
"${as_pg[@]}" pgbouncer -d "$pg_dir/pgbouncer.ini" >/dev/null
for _ in $(seq 1 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $pooler_port), 1)" 2>/dev/null && break
  sleep 0.1
done

stop_postgres() {
  [ -f "$pg_dir/pgbouncer.pid" ] && kill "$(cat "$pg_dir/pgbouncer.pid")" 2>/dev/null || true
  "$emulators/pg_ctl" stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
if declare -F stop_started >/dev/null; then
  trap 'stop_started; stop_postgres' EXIT
else
  trap stop_postgres EXIT
fi

export NOTIFY_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port"
export NOTIFY_TEST_PG_CTL="$emulators/pg_ctl"
export NOTIFY_TEST_POOLER_URL="postgres://postgres:$pooler_password@127.0.0.1:$pooler_port"
