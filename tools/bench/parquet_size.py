#!/usr/bin/env python3
"""How small do spans get in mature columnar formats? A yardstick for Plumb's segment files.

    parquet_size.py FILE.jsonl --workdir DIR [--row-group 1000000] [--columns]

Loads span-schema JSONL (tools/gen_spans.py output) with pyarrow's JSON reader and an explicit
schema (timestamps as timestamp[us, tz=UTC], properties as map<string,string>, request/response
bodies dropped: Plumb keeps bodies apart from the columns), writes Parquet with zstd and with lz4,
and a DuckDB database with a `spans` table, then prints one line per format:

    parquet-zstd  bytes=123456 bytes_per_span=12.3

The file is read in newline-aligned blocks and written through ParquetWriters, so memory stays
bounded (one row group plus one block) and 10M spans fit easily in 24 GB. Timestamps must be ISO
8601 strings here (pyarrow cannot mix strings and integers in one JSON column).
"""
import argparse
import os
import sys
import time

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.json as pj
import pyarrow.parquet as pq

TS = pa.timestamp("us", tz="UTC")
PROPS = pa.map_(pa.string(), pa.string())
# output schema, in span-schema order; properties parsed separately (see read_block)
SCHEMA = pa.schema([
    ("span_id", pa.string()), ("trace_id", pa.string()), ("parent_span_id", pa.string()),
    ("session_id", pa.string()), ("user_id", pa.string()), ("ts_start", TS), ("ts_end", TS),
    ("latency_ms", pa.float64()), ("ttft_ms", pa.float64()), ("upstream_ms", pa.float64()),
    ("provider", pa.string()), ("model_requested", pa.string()), ("model", pa.string()),
    ("operation", pa.string()), ("endpoint", pa.string()), ("method", pa.string()), ("stream", pa.bool_()),
    ("status", pa.int32()), ("error_type", pa.string()), ("finish_reason", pa.string()),
    ("input_tokens", pa.int64()), ("output_tokens", pa.int64()), ("cache_read_tokens", pa.int64()),
    ("cache_write_tokens", pa.int64()), ("reasoning_tokens", pa.int64()), ("cost_usd", pa.float64()),
    ("request_bytes", pa.int64()), ("response_bytes", pa.int64()), ("api_key_hash", pa.string()),
    ("properties", PROPS),
])
# what the JSON reader is told: everything but properties; bodies as strings (then dropped).
# pyarrow's JSON reader cannot build maps, so properties is left to inference (a struct whose
# fields are the keys seen in the block) and converted to a map afterwards.
READ_SCHEMA = pa.schema([f for f in SCHEMA if f.name != "properties"] +
                        [("request_body", pa.string()), ("response_body", pa.string())])


def struct_to_map(arr, n):
    """StructArray (one field per property name) -> MapArray of the non-null fields, vectorised."""
    if arr is None:  # no row in the block had a properties key
        return pa.nulls(n, PROPS)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_null(arr.type):
        return pa.nulls(n, PROPS)
    names = [arr.type.field(i).name for i in range(arr.type.num_fields)]
    fields = arr.flatten()  # children with the parent's nulls applied
    if names:
        valid = np.stack([f.is_valid().to_numpy(zero_copy_only=False) for f in fields], axis=1)
    else:
        valid = np.zeros((n, 0), bool)
    rows, fidx = np.nonzero(valid)  # row-major: entries of row 0, then row 1, ...
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(valid.sum(axis=1), out=offsets[1:])
    keys = pa.array(np.array(names, dtype=object)[fidx] if len(fidx) else [], pa.string())
    all_vals = pa.concat_arrays([f.cast(pa.string()) for f in fields]) if names else pa.array([], pa.string())
    items = all_vals.take(pa.array(fidx.astype(np.int64) * n + rows))
    mask = pa.array(~arr.is_valid().to_numpy(zero_copy_only=False))
    return pa.MapArray.from_arrays(pa.array(offsets), keys, items, type=PROPS, mask=mask)


def read_block(buf):
    """One newline-aligned block of JSONL -> table with SCHEMA."""
    t = pj.read_json(pa.BufferReader(buf), read_options=pj.ReadOptions(block_size=16 << 20, use_threads=True),
                     parse_options=pj.ParseOptions(explicit_schema=READ_SCHEMA, unexpected_field_behavior="infer"))
    unknown = set(t.column_names) - set(READ_SCHEMA.names) - {"properties"}
    if unknown:
        sys.exit(f"parquet_size: unknown keys {sorted(unknown)} (not span schema v1)")
    props = t.column("properties") if "properties" in t.column_names else None
    cols = [t.column(f.name) for f in SCHEMA if f.name != "properties"] + [struct_to_map(props, t.num_rows)]
    return pa.Table.from_arrays(cols, schema=SCHEMA)


def blocks(path, size):
    """Yield newline-aligned byte blocks of about `size` bytes."""
    rest = b""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(size)
            if not chunk:
                break
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            rest = data[cut:]
            yield data[:cut]
    if rest.strip():
        yield rest + b"\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("jsonl")
    ap.add_argument("--workdir", required=True, help="where the .parquet and .duckdb files go (overwritten)")
    ap.add_argument("--row-group", type=int, default=1_000_000, help="rows per Parquet row group")
    ap.add_argument("--block-mb", type=int, default=64, help="JSONL bytes parsed at a time")
    ap.add_argument("--columns", action="store_true", help="also print zstd bytes per span for each column")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    t0 = time.time()
    outs = {"parquet-zstd": os.path.join(a.workdir, "spans.zstd.parquet"),
            "parquet-lz4": os.path.join(a.workdir, "spans.lz4.parquet")}
    writers = {name: pq.ParquetWriter(path, SCHEMA, compression=name.split("-")[1]) for name, path in outs.items()}
    pending, pending_rows, rows = [], 0, 0

    def flush(final):
        # write whole row groups of --row-group rows; the tail waits for more data unless final
        nonlocal pending, pending_rows
        if not pending:
            return
        t = pa.concat_tables(pending)
        full = len(t) if final else len(t) // a.row_group * a.row_group
        for lo in range(0, full, a.row_group):
            part = t.slice(lo, min(a.row_group, full - lo))
            for w in writers.values():
                w.write_table(part, row_group_size=a.row_group)
        pending = [t.slice(full)] if full < len(t) else []
        pending_rows = len(t) - full

    for buf in blocks(a.jsonl, a.block_mb << 20):
        t = read_block(buf)
        rows += len(t)
        pending.append(t)
        pending_rows += len(t)
        if pending_rows >= a.row_group:
            flush(False)
    flush(True)
    for w in writers.values():
        w.close()
    t_parquet = time.time() - t0

    db = os.path.join(a.workdir, "spans.duckdb")
    for p in (db, db + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    con = duckdb.connect(db)
    con.execute("SET threads = 2")
    con.execute("CREATE TABLE spans AS SELECT * FROM read_parquet(?)", [outs["parquet-zstd"]])
    db_rows = con.execute("SELECT count(*) FROM spans").fetchone()[0]
    con.execute("CHECKPOINT")
    con.close()
    if db_rows != rows:
        sys.exit(f"parquet_size: duckdb has {db_rows} rows, expected {rows}")
    t_all = time.time() - t0

    sizes = {"jsonl": os.path.getsize(a.jsonl)}
    sizes.update({name: os.path.getsize(path) for name, path in outs.items()})
    sizes["duckdb"] = sum(os.path.getsize(p) for p in (db, db + ".wal") if os.path.exists(p))
    for name, size in sizes.items():
        print(f"{name:<13} bytes={size} bytes_per_span={size / max(rows, 1):.1f}")
    if a.columns:  # where the bytes go: compressed size of each column across row groups
        md = pq.ParquetFile(outs["parquet-zstd"]).metadata
        per_col = {}
        for rg in range(md.num_row_groups):
            for c in range(md.num_columns):
                cc = md.row_group(rg).column(c)
                per_col[cc.path_in_schema] = per_col.get(cc.path_in_schema, 0) + cc.total_compressed_size
        for name, size in sorted(per_col.items(), key=lambda kv: -kv[1]):
            print(f"  zstd {name:<28} bytes_per_span={size / max(rows, 1):.2f}")
    print(f"parquet_size: {rows} spans from {a.jsonl}; parquet {t_parquet:.1f}s, duckdb {t_all - t_parquet:.1f}s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
