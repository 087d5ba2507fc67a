#!/usr/bin/env bash
# The end-to-end demo: installs what is missing, builds Sluice, starts a throwaway PostgreSQL
# and MariaDB holding a small shop, starts `sluice serve`, registers a Postgres source, a MySQL
# source and a Parquet upsert sink from configs/, makes a few changes, prints the change events
# as they arrive and shows the warehouse tables with DuckDB. Everything lives in one temporary
# directory that is removed on exit (Ctrl-C too).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
if [ -n "${SLUICE_BIN:-}" ]; then
    SLUICE=$SLUICE_BIN   # a binary built elsewhere (e.g. a debug build while developing)
else
    echo "[demo] building sluice (release)"
    cargo build --release --locked --quiet
    SLUICE=$PWD/target/release/sluice
fi

work=$(mktemp -d -t sluice-demo-XXXXXX)
chmod 755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rest_port=$(free_port)
export SLUICE_SERVER="http://127.0.0.1:${rest_port}"
# The connector configs in configs/ read these through ${env:...}.
export SHOP_PG_PORT=$(free_port) SHOP_MYSQL_PORT=$(free_port)
export SHOP_PG_PASSWORD=shop-demo SHOP_MYSQL_PASSWORD=shop-demo
export SHOP_WAREHOUSE_DIR="$work/warehouse"
PG_BIN=/usr/lib/postgresql/15/bin
as_user() { local user=$1; shift; if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi; }

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    # runuser does not pass the signal on: stop the servers through their own pid files.
    local server_pids=()
    [ -f "$work/my/pid" ] && server_pids+=("$(cat "$work/my/pid")")
    [ -f "$work/pg/data/postmaster.pid" ] && server_pids+=("$(head -1 "$work/pg/data/postmaster.pid")")
    for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    for pid in "${server_pids[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # wait_for <what> <command...>
    local what=$1; shift
    for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "[demo] $what did not appear in time; the worker log ends with:"
    tail -20 "$work/$what.log" 2>/dev/null || tail -20 "$work/worker.log"; exit 1
}

echo "[demo] starting PostgreSQL 15 on 127.0.0.1:$SHOP_PG_PORT (wal_level=logical)"
mkdir -p "$work/pg" && chown postgres "$work/pg" 2>/dev/null || true
echo "$SHOP_PG_PASSWORD" > "$work/pg.pw" && chmod 644 "$work/pg.pw"
as_user postgres "$PG_BIN/initdb" -D "$work/pg/data" -U postgres --pwfile="$work/pg.pw" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >"$work/postgres.log" 2>&1
as_user postgres "$PG_BIN/postgres" -D "$work/pg/data" -p "$SHOP_PG_PORT" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$work/pg" -c wal_level=logical -c max_replication_slots=8 \
    -c max_wal_senders=8 -c fsync=off >>"$work/postgres.log" 2>&1 &
pids+=($!)
psql_shop() { PGPASSWORD=$SHOP_PG_PASSWORD psql -X -q -h 127.0.0.1 -p "$SHOP_PG_PORT" -U postgres "$@"; }
wait_for postgres psql_shop -d postgres -c 'select 1'
psql_shop -d postgres -c 'create database shop'
psql_shop -d shop <<'SQL'
create table customers (id serial primary key, name text not null, email text unique);
create table orders (id serial primary key, customer_id int references customers(id),
                     total numeric(10,2) not null, status text not null default 'new',
                     created_at timestamptz not null default now());
insert into customers (name, email) values ('Sally Thomas', 'sally@example.com'),
                                           ('George Bailey', 'gbailey@example.com');
insert into orders (customer_id, total) values (1, 19.99), (2, 5.25);
SQL

echo "[demo] starting MariaDB on 127.0.0.1:$SHOP_MYSQL_PORT (row-based binlog, full metadata)"
mkdir -p "$work/my" && chown mysql "$work/my" 2>/dev/null || true
as_user mysql mariadb-install-db --no-defaults --datadir="$work/my/data" --auth-root-authentication-method=normal \
    --skip-test-db >"$work/mariadb.log" 2>&1
as_user mysql mariadbd --no-defaults --datadir="$work/my/data" --socket="$work/my/sock" \
    --pid-file="$work/my/pid" --port="$SHOP_MYSQL_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
    --log-bin="$work/my/data/binlog" --server-id=1 --binlog-format=ROW --binlog-row-image=FULL \
    --binlog-row-metadata=FULL --innodb-buffer-pool-size=32M >>"$work/mariadb.log" 2>&1 &
pids+=($!)
mysql_root() { mariadb --no-defaults -uroot --socket="$work/my/sock" "$@"; }
wait_for mariadb mysql_root -e 'select 1'
mysql_root <<SQL
create user 'sluice'@'%' identified by '$SHOP_MYSQL_PASSWORD';
grant select, reload, show databases, replication slave, replication client on *.* to 'sluice'@'%';
create database shop;
use shop;
create table products (id int primary key auto_increment, name varchar(100) not null,
                       price decimal(8,2) not null, stock int not null);
insert into products (name, price, stock) values ('kettle', 24.50, 10), ('teapot', 18.00, 4);
SQL

echo "[demo] starting: sluice serve --data-dir $work/data --rest-listen 127.0.0.1:${rest_port}"
"$SLUICE" serve --data-dir "$work/data" --rest-listen "127.0.0.1:${rest_port}" 2>"$work/worker.log" &
pids+=($!)
wait_for worker curl -sf "$SLUICE_SERVER/health"

for config in shop-postgres shop-mysql shop-warehouse; do
    echo; echo "[demo] sluice connectors create -f configs/$config.json"
    "$SLUICE" connectors create -f "configs/$config.json"
done

echo; echo "[demo] making changes in both databases"
psql_shop -d shop -c "update orders set status = 'paid' where id = 1" \
    -c "insert into orders (customer_id, total) values (1, 42.00)" -c "delete from orders where id = 2"
mysql_root shop -e "update products set stock = stock - 1 where id = 1; insert into products (name, price, stock) values ('cups', 9.95, 40); delete from products where id = 2;"

# Each event is Kafka Connect JSON ({"schema": …, "payload": …}); show op, before and after.
summarize() {
    python3 -u -c '
import json, sys
for line in sys.stdin:
    event = json.loads(line)
    if event is None:
        print("  (tombstone)"); continue
    p = event.get("payload", event)
    print("  op=%s before=%s after=%s" % (p["op"], json.dumps(p["before"]), json.dumps(p["after"])))
'
}
# The sources create their topics when the snapshot writes the first event.
wait_for topic-pgshop.public.orders curl -sf "$SLUICE_SERVER/topics/pgshop.public.orders"
wait_for topic-myshop.shop.products curl -sf "$SLUICE_SERVER/topics/myshop.shop.products"
echo; echo "[demo] sluice consume pgshop.public.orders --from-beginning --max-messages 6   (snapshot r, then c/u/d)"
"$SLUICE" consume pgshop.public.orders --from-beginning --follow --max-messages 6 | summarize
echo; echo "[demo] sluice consume myshop.shop.products --from-beginning --max-messages 6"
"$SLUICE" consume myshop.shop.products --from-beginning --follow --max-messages 6 | summarize

echo; echo "[demo] sluice connectors status (all three)"
for name in shop-postgres shop-mysql shop-warehouse; do "$SLUICE" connectors status "$name"; done

echo; echo "[demo] the warehouse, read with DuckDB (upsert mode: the tables' current rows)"
for _ in $(seq 1 100); do
    python3 - "$SHOP_WAREHOUSE_DIR" <<'PY' && break
import sys, glob, duckdb
root = sys.argv[1]
orders = glob.glob(f"{root}/pgshop.public.orders/**/*.parquet", recursive=True)
products = glob.glob(f"{root}/myshop.shop.products/**/*.parquet", recursive=True)
if not orders or not products:
    sys.exit(1)
con = duckdb.connect()
rows = con.execute(f"select id, status, total from read_parquet('{root}/pgshop.public.orders/**/*.parquet') order by id").fetchall()
if len(rows) != 2 or rows[0][1] != 'paid':
    sys.exit(1)
print("orders (from PostgreSQL):")
con.sql(f"select id, customer_id, total, status from read_parquet('{root}/pgshop.public.orders/**/*.parquet') order by id").show()
print("products (from MariaDB):")
con.sql(f"select id, name, price, stock from read_parquet('{root}/myshop.shop.products/**/*.parquet') order by id").show()
PY
    sleep 0.3
done

cat <<NEXT

What to try next: run the demo as DEMO_KEEP=1 scripts/demo.sh to keep everything up, then in
another shell (export SLUICE_SERVER=$SLUICE_SERVER):
  sluice topics list                                # the change-event topics
  sluice consume pgshop.public.customers --from-beginning --format json
  sluice connectors stop shop-postgres && sluice connectors resume shop-postgres
  curl -s \$SLUICE_SERVER/metrics | grep snapshot   # snapshot progress per table
  sluice --help                                     # every command
NEXT
# Keep the servers up for the reader only when asked (DEMO_KEEP=1); otherwise clean up now.
if [ "${DEMO_KEEP:-0}" = 1 ]; then
    echo "[demo] DEMO_KEEP=1: everything stays up; press Ctrl-C to stop and clean up."
    wait
fi
