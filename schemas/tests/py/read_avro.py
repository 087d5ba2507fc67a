"""Reads Confluent-framed Avro samples written by schemas/tests/avro_fastavro.rs with fastavro.

Usage: read_avro.py DIR
DIR holds NAME.avsc (the registered Avro schema) and NAME.bin (magic byte 0, 4-byte big-endian
schema id, Avro datum) pairs. Prints one JSON line per
sample: {"name", "schema_id", "record"}, with Avro types fastavro decodes into Python objects
written as tagged strings (bytes "hex:…", decimals "dec:…", dates "date:…", times "time:…",
timestamps "ts:…") so the Rust test can compare them exactly.
"""
import datetime
import decimal
import io
import json
import os
import struct
import sys

try:
    import fastavro
except ImportError:
    print("fastavro is not installed; run scripts/setup.sh", file=sys.stderr)
    sys.exit(3)


def tagged(value):
    if isinstance(value, bytes):
        return "hex:" + value.hex()
    if isinstance(value, decimal.Decimal):
        return "dec:" + str(value)
    if isinstance(value, datetime.datetime):
        return "ts:" + value.isoformat()
    if isinstance(value, datetime.date):
        return "date:" + value.isoformat()
    if isinstance(value, datetime.time):
        return "time:" + value.isoformat()
    if isinstance(value, dict):
        return {k: tagged(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tagged(v) for v in value]
    return value


def main():
    directory = sys.argv[1]
    for file_name in sorted(os.listdir(directory)):
        name, extension = os.path.splitext(file_name)
        path = os.path.join(directory, file_name)
        if extension == ".bin":
            with open(os.path.join(directory, name + ".avsc")) as f:
                schema = fastavro.parse_schema(json.load(f))
            with open(path, "rb") as f:
                data = f.read()
            if data[0] != 0:
                raise SystemExit(f"{file_name}: magic byte is {data[0]}, expected 0")
            (schema_id,) = struct.unpack(">I", data[1:5])
            stream = io.BytesIO(data[5:])
            record = fastavro.schemaless_reader(stream, schema)
            if stream.read():
                raise SystemExit(f"{file_name}: bytes left after the datum")
            print(json.dumps({"name": name, "schema_id": schema_id, "record": tagged(record)}))


if __name__ == "__main__":
    main()
