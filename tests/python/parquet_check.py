"""Read a huadan Parquet export with pyarrow (an independent reader) and compare it,
row by row, with the JSON Lines export of the same records.

usage: parquet_check.py EXPORT.parquet EXPECTED.jsonl ROW_GROUP_ROWS

Prints one line "ok: N rows, G row groups" and exits 0, or prints what differs and
exits 1.
"""

import datetime as dt
import json
import math
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def fail(msg):
    print(f"parquet_check: {msg}")
    sys.exit(1)


def utc(s):
    if s is None:
        return None
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def main():
    path, expected_path, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    pf = pq.ParquetFile(path)
    table = pf.read()
    with open(expected_path, encoding="utf-8") as f:
        expected = [json.loads(line) for line in f if line.strip()]

    if table.num_rows != len(expected):
        fail(f"{table.num_rows} rows, expected {len(expected)}")
    groups = pf.metadata.num_row_groups
    want_groups = max(1, math.ceil(len(expected) / batch))
    if groups != want_groups:
        fail(f"{groups} row groups, expected {want_groups} (batches of {batch})")

    schema = table.schema
    ts = pa.timestamp("us", tz="UTC")
    want_types = {
        "id": pa.string(),
        "started_at": ts,
        "ended_at": ts,
        "synced_at": ts,
        "talk_seconds": pa.int64(),
        "total_seconds": pa.int64(),
        "caller_number": pa.string(),
        "raw": pa.string(),
    }
    for name, typ in want_types.items():
        field = schema.field(name)
        if field.type != typ:
            fail(f"column {name} is {field.type}, expected {typ}")
    if schema.field("id").nullable or not schema.field("talk_seconds").nullable:
        fail("nullability: id must be required, talk_seconds optional")

    rows = table.to_pylist()
    for i, (got, want) in enumerate(zip(rows, expected)):
        agent = want.get("agent") or {}
        transcript = want.get("transcript")
        checks = {
            "id": want["id"],
            "source": want["source"],
            "provider": want["provider"],
            "provider_call_id": want["provider_call_id"],
            "direction": want["direction"],
            "disposition": want["disposition"],
            "disposition_detail": want["disposition_detail"],
            "caller_number": want["caller"]["number"],
            "callee_number": want["callee"]["number"],
            "agent_id": agent.get("id"),
            "agent_name": agent.get("name"),
            "talk_seconds": want["talk_seconds"],
            "total_seconds": want["total_seconds"],
            "remark": want["remark"],
            "started_at": utc(want["started_at"]),
            "ended_at": utc(want["ended_at"]),
            "synced_at": utc(want["synced_at"]),
            "transcript_status": transcript["status"] if transcript else None,
            "transcript_text": "\n".join(s["text"] for s in transcript["sentences"]) if transcript else None,
        }
        for col, value in checks.items():
            if got[col] != value:
                fail(f"row {i} ({want['id']}): {col} = {got[col]!r}, expected {value!r}")
        for col in ("raw", "participants", "recordings", "transcript", "agent"):
            decoded = json.loads(got[col]) if got[col] is not None else None
            if decoded != want[col]:
                fail(f"row {i} ({want['id']}): JSON column {col} differs")
    print(f"ok: {len(rows)} rows, {groups} row groups")


if __name__ == "__main__":
    main()
