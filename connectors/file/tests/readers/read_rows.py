"""Reads the files the sink wrote for one topic with real readers and prints them as JSON.

usage: read_rows.py FORMAT TOPIC_DIR

Prints {"readers": {name: [row, ...]}, "files": [{"name": ..., "columns": [...]}]}, where each
reader gives every row of every visible file (`TOPIC_DIR/**/*.<ext>`). Values are made
JSON-friendly: decimals as floats, dates and timestamps as ISO-8601 text, bytes as hex.
Rows of files with fewer columns get the missing columns as null.
"""

import base64
import datetime
import decimal
import glob
import json
import os
import sys


def norm(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def uniform(rows):
    names = []
    for row in rows:
        for name in row:
            if name not in names:
                names.append(name)
    return [{name: norm(row.get(name)) for name in names} for row in rows]


def main():
    fmt, topic_dir = sys.argv[1], sys.argv[2]
    pattern = os.path.join(topic_dir, "**", "*." + fmt)
    files = sorted(glob.glob(pattern, recursive=True))
    readers = {}
    described = []
    if fmt == "parquet":
        import duckdb
        import pyarrow.parquet as pq

        rows = []
        for path in files:
            table = pq.read_table(path)
            described.append({"name": os.path.basename(path), "columns": table.column_names})
            rows.extend(table.to_pylist())
        readers["pyarrow"] = uniform(rows)
        if files:
            rel = duckdb.sql(
                f"select * from read_parquet('{pattern}', union_by_name = true)"
            )
            names = rel.columns
            readers["duckdb"] = uniform([dict(zip(names, r)) for r in rel.fetchall()])
        else:
            readers["duckdb"] = []
    elif fmt == "avro":
        import fastavro

        rows = []
        for path in files:
            with open(path, "rb") as handle:
                reader = fastavro.reader(handle)
                fields = [f["name"] for f in reader.writer_schema["fields"]]
                described.append({"name": os.path.basename(path), "columns": fields})
                rows.extend(reader)
        readers["fastavro"] = uniform(rows)
    elif fmt == "jsonl":
        import duckdb

        rows = []
        for path in files:
            columns = []
            with open(path) as handle:
                for line in handle:
                    row = json.loads(line)
                    rows.append(row)
                    columns = columns or list(row)
            described.append({"name": os.path.basename(path), "columns": columns})
        readers["json"] = uniform(rows)
        non_empty = [path for path in files if os.path.getsize(path) > 0]
        if non_empty:
            rel = duckdb.sql(
                f"select * from read_json({non_empty!r}, format = 'newline_delimited', union_by_name = true)"
            )
            names = rel.columns
            readers["duckdb"] = uniform([dict(zip(names, r)) for r in rel.fetchall()])
        else:
            readers["duckdb"] = []
    else:
        raise SystemExit(f"unknown format {fmt}")
    print(json.dumps({"readers": readers, "files": described}))


if __name__ == "__main__":
    main()
