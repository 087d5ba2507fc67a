#!/usr/bin/env bash
# The one test command: installs what the tests need, checks formatting and lints,
# then runs every test in the workspace. Its exit code is the tests' exit code.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "[test] cargo fmt --check"
cargo fmt --all -- --check

echo "[test] cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "[test] cargo test"
cargo test --workspace --locked --no-fail-fast "$@"
