"""Talks to Sluice's schema registry with Confluent's own Python client (confluent-kafka).

Usage: confluent_client.py REGISTRY_URL FRAMED_FILE TOPIC OUT_FILE
Deserializes FRAMED_FILE (Confluent-framed Avro written by Sluice for TOPIC's value) with
AvroDeserializer, checks subjects/versions/compatibility calls, then serializes a record of a new
schema with AvroSerializer (auto-registering it under "<TOPIC>-py-value") into OUT_FILE.
Prints one JSON object describing what it saw.
"""
import json
import sys

try:
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext
except ImportError as error:
    print(f"confluent-kafka with its schemaregistry/avro extras is missing ({error}); run scripts/setup.sh", file=sys.stderr)
    sys.exit(3)


def main():
    url, framed_file, topic, out_file = sys.argv[1:5]
    client = SchemaRegistryClient({"url": url})
    with open(framed_file, "rb") as f:
        framed = f.read()
    value_context = SerializationContext(topic, MessageField.VALUE)
    record = AvroDeserializer(client)(framed, value_context)

    subject = f"{topic}-value"
    latest = client.get_latest_version(subject)
    seen = {
        "subjects": client.get_subjects(),
        "versions": client.get_versions(subject),
        "latest_version": latest.version,
        "latest_id": latest.schema_id,
        "op": record["op"],
        "after_id": record["after"]["id"],
        "after_status": record["after"]["status"],
        "price": str(record["after"]["price"]),
        "compatible": client.test_compatibility(subject, Schema(latest.schema.schema_str, "AVRO")),
        "global_level": client.get_compatibility(),
    }
    client.set_compatibility(subject_name=subject, level="FULL")
    seen["subject_level"] = client.get_compatibility(subject)

    schema = {
        "type": "record",
        "name": "Reading",
        "namespace": "py.sensors",
        "fields": [
            {"name": "sensor", "type": "string"},
            {"name": "celsius", "type": "double"},
            {"name": "note", "type": ["null", "string"], "default": None},
        ],
    }
    py_topic = f"{topic}-py"
    serializer = AvroSerializer(client, json.dumps(schema))
    payload = serializer({"sensor": "t-1", "celsius": 21.5, "note": "from python"},
                         SerializationContext(py_topic, MessageField.VALUE))
    with open(out_file, "wb") as f:
        f.write(payload)
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
