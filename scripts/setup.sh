#!/usr/bin/env bash
# Installs everything the tests and the demo need on a Debian machine.
# Idempotent: each piece is checked first, so a second run takes a few seconds.
set -euo pipefail

log() { printf '[setup] %s\n' "$*"; }

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- Debian packages -------------------------------------------------------
# binary to look for -> package that provides it
declare -A NEEDED_BINARIES=(
    [/usr/lib/postgresql/15/bin/postgres]=postgresql
    [/usr/lib/postgresql/15/bin/pg_recvlogical]=postgresql-client
    [/usr/sbin/mariadbd]=mariadb-server
    [/usr/bin/mariadb]=mariadb-client
    [/usr/bin/mysqlbinlog]=mariadb-client
    [/usr/bin/kcat]=kcat
    [/usr/bin/sysbench]=sysbench
    [/usr/bin/curl]=curl
)
missing_packages=()
for binary in "${!NEEDED_BINARIES[@]}"; do
    if [ ! -x "$binary" ]; then
        missing_packages+=("${NEEDED_BINARIES[$binary]}")
    fi
done
if [ ${#missing_packages[@]} -gt 0 ]; then
    # shellcheck disable=SC2207
    unique=($(printf '%s\n' "${missing_packages[@]}" | sort -u))
    log "installing Debian packages: ${unique[*]}"
    export DEBIAN_FRONTEND=noninteractive
    sudo_if_needed apt-get update -qq
    sudo_if_needed apt-get install -y -qq --no-install-recommends "${unique[@]}" >/dev/null
    # The packages start system-wide services; the tests run their own throwaway
    # servers, so stop the packaged ones to free ports and memory.
    for service in postgresql mariadb; do
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
            sudo_if_needed systemctl stop "$service" || true
        elif command -v service >/dev/null 2>&1; then
            sudo_if_needed service "$service" stop >/dev/null 2>&1 || true
        fi
    done
else
    log "Debian packages present"
fi

# --- Python clients used by interop tests ------------------------------------
PYTHON=${PYTHON:-python3}
declare -A PY_MODULES=(
    [duckdb]=duckdb
    [fastavro]=fastavro
    [pyarrow]=pyarrow
    [kafka]=kafka-python
    [confluent_kafka]=confluent-kafka
    [confluent_kafka.schema_registry.avro]='confluent-kafka[avro,schemaregistry]'
    [pymysqlreplication]=mysql-replication
    [cryptography]=cryptography   # the HTTP sink's TLS test makes a private CA with it
)
missing_py=()
for module in "${!PY_MODULES[@]}"; do
    if ! "$PYTHON" -c "import $module" >/dev/null 2>&1; then
        missing_py+=("${PY_MODULES[$module]}")
    fi
done
if [ ${#missing_py[@]} -gt 0 ]; then
    log "installing Python packages: ${missing_py[*]}"
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        sudo_if_needed apt-get install -y -qq python3-pip >/dev/null
    fi
    # A Debian system Python refuses plain `pip install` (PEP 668); these are test-only
    # clients, so fall back to installing them beside the system packages.
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "${missing_py[@]}" 2>/dev/null ||
        "$PYTHON" -m pip install --quiet --disable-pip-version-check --break-system-packages "${missing_py[@]}"
else
    log "Python packages present"
fi

# --- Rust components ---------------------------------------------------------
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    log "installing rustfmt and clippy"
    rustup component add rustfmt clippy
fi

log "done"
