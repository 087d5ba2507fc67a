#!/usr/bin/env python3
"""Turns the criterion output of `cargo bench -p sluice-broker --bench append` into the
broker/raw ratio table for bench/RESULTS.md.

Usage: python3 bench/broker-ratios.py <CARGO_TARGET_DIR>/criterion
"""
import json
import re
import sys
from pathlib import Path


def load(root: Path):
    results = {}
    for bench in root.rglob("new/benchmark.json"):
        meta = json.loads(bench.read_text())
        estimates = json.loads((bench.parent / "estimates.json").read_text())
        ns = estimates["mean"]["point_estimate"]
        payload = (meta.get("throughput") or {}).get("Bytes")
        key = (meta["group_id"], meta["function_id"], meta.get("value_str") or "")
        results[key] = (ns, payload)
    return results


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
    results = load(root)
    print("| policy | record | batch | broker records/s | broker MB/s | raw MB/s | broker/raw |")
    print("|---|---|---|---:|---:|---:|---:|")
    for (group, function, value), (ns, payload) in sorted(results.items()):
        if group != "append" or function != "broker":
            continue
        raw = results.get((group, "raw", value))
        m = re.match(r"(\w+)/(\d+)B/batch(\d+)", value)
        if not raw or not m:
            continue
        policy, record, batch = m.group(1), int(m.group(2)), int(m.group(3))
        broker_mbs = payload / ns * 1e3
        raw_mbs = raw[1] / raw[0] * 1e3
        records_s = batch / ns * 1e9
        print(f"| {policy} | {record} B | {batch} | {records_s:,.0f} | {broker_mbs:,.1f} | "
              f"{raw_mbs:,.1f} | {broker_mbs / raw_mbs:.2f} |")
    print()
    print("| fetch (page cache, 1 KB records) | GB/s |")
    print("|---|---:|")
    for (group, function, value), (ns, payload) in sorted(results.items()):
        if group == "fetch":
            print(f"| {function} | {payload / ns:.2f} |")


if __name__ == "__main__":
    main()
