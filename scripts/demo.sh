#!/usr/bin/env bash
# The end-to-end demo: one command that installs what is missing, builds Sluice and
# shows database changes flowing to topics and warehouse files.
#
# Today it installs and builds, then says what is still to come: the full journey
# (Postgres + MariaDB sources, `sluice serve`, `sluice consume`, a Parquet sink read by
# DuckDB) is completed by issue #8, once the sources (#6, #7) and the runtime (#5) land.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo build --release --locked
./target/release/sluice --version
echo
echo "The end-to-end demo (sources -> broker -> warehouse files) arrives with issue #8."
echo "What you can try now:"
echo "  ./target/release/sluice --help"
echo "  scripts/test.sh            # starts real PostgreSQL and MariaDB servers and runs every test"
