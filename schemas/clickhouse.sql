-- Plumb fleet store: the ClickHouse tables that `plumb` exports spans to and that
-- `plumb query --source clickhouse` reads (span schema v1, see span.schema.json).
-- For ClickHouse 23.8 LTS and later.
--
-- Placeholders. The client replaces exactly these tokens before sending, and nothing else:
--   {database}       the database name. The client accepts only [A-Za-z_][A-Za-z0-9_]* (at most
--                    64 bytes), so it needs no quoting. Default: plumb.
--   {table}          the spans table (`table` in [export.clickhouse]), same rule. Default: spans.
--   {bodies_table}   the bodies table (`bodies_table`), same rule. Default: span_bodies.
--   {span_ttl_days}  days a span row is kept (TTL on ts_start). A positive integer. Default: 90 (`ttl`).
--   {body_ttl_days}  days a body row is kept. A positive integer. Default: 14 (`body_ttl`).
--                    Keep both at most about 25000 (the client should cap them, e.g. at 10000): the
--                    TTL is a DateTime, which ends in 2106, and ts_start + days past that wraps to
--                    the past (measured: 2026-10-01 + 30000 days gives 1972-10-13), so the rows
--                    count as expired and merges delete them (36500 days emptied a test data set).
--   {dedup_window}   how many recent insert blocks the dedup-by-token check remembers. Default: 1000.
-- Comment lines (starting with --) are dropped first; after substitution no "{" may remain
-- (the client checks). Each statement ends with a semicolon at the end of a line and no other
-- semicolon appears, so the client splits on those and sends one statement per request. All statements are idempotent (IF NOT EXISTS).
-- Retention can be changed later with ALTER TABLE ... MODIFY TTL.
--
-- Column types follow the dialect's types so that a translated query computes on the same types
-- as DuckDB: BIGINT is Int64 (status and the counters too; T64+ZSTD makes them as small as
-- narrower types would be), DOUBLE is Float64, BOOLEAN is Bool, TIMESTAMP is
-- DateTime64(6, 'UTC'), MAP(VARCHAR, VARCHAR) is a Map with String values. Nullable exactly where
-- Plumb's store allows NULL (Sources/PlumbCore/Span/SpanSchema.swift: trace_id, model_requested and
-- model are nullable there although span.schema.json lists them as plain strings).
--
-- Codecs were chosen by measurement (1M generated spans, tools/gen_spans.py --seed 5, one month
-- partition merged to one part): 76.5 MB in all with these codecs, 140 MB with the default LZ4.
--   ids and free text: ZSTD(1) (ZSTD(3) was no smaller on 32-hex ids; LZ4 twice as large)
--   timestamps: Delta then ZSTD(1) (3.8 MB per column; DoubleDelta 4.4, ZSTD alone 5.3)
--   doubles: ZSTD(3) (Gorilla and FPC made these non-smooth values larger, +30 to +60%)
--   counters: T64 then ZSTD(1) (1.8 MB for input_tokens; LZ4 3.7)
--   properties: Map(LowCardinality(String), String), ZSTD(3) (3.6 MB; Map(String, String) 4.2)
--
-- Deduplication (a span must be counted once even if an export batch is sent twice):
--  1. At insert: the exporter sends each batch with SETTINGS insert_deduplication_token = '<batch
--     id>' (a hash of the batch's span ids, so a retry of the same batch has the same token). With
--     non_replicated_deduplication_window > 0 a plain (non-replicated) MergeTree then drops a repeat
--     of a recently inserted block: measured on chdb, the second INSERT with the same token adds
--     no row. (Replicated tables deduplicate by token through Keeper without this setting.) This
--     catches retries after a timeout, the common case, at no query cost.
--  2. At read: tokens cannot catch a span re-sent in a different batch (an exporter restarted
--     after a crash re-reads its WAL tail and cuts batches differently), nor a retry older than
--     the window. So the engine is ReplacingMergeTree with span_id in the sorting key: rows with
--     the same sorting key are collapsed when parts merge, and every translated query reads
--     `FROM {database}.spans FINAL`, which collapses them at query time too. Duplicates of a span
--     are identical rows (same ts_start, so same partition and same sorting key), so no version
--     column is needed and FINAL yields exactly one row per span. Measured on chdb 4.4 (ClickHouse
--     26.9) with 1M spans: in 10 unmerged parts a group-by-model aggregate took 228 ms with FINAL
--     against 66 ms without, a one-day range 31 against 7 ms; after OPTIMIZE ... FINAL (one part
--     per partition, the state background merges tend to) 85 against 85 ms and 5 against 4 ms.
--     So FINAL costs while parts are unmerged and little after. (Older servers merge at read
--     time less cleverly; a 23.8 server was not available to measure.)
--  3. The insert token must be derived from the batch's content (e.g. a hash of its span ids):
--     measured, a token reused for different rows drops those rows, and a repeat of the same
--     rows sent without a token is not recognised as a repeat of a tokened insert.
--
-- Sorting key (toStartOfHour(ts_start), provider, span_id):
--  - the dashboards' queries are a time range plus grouping or filtering by provider (and model):
--    the hour first lets the primary index skip everything outside the range (the condition on
--    ts_start is carried through the monotonic toStartOfHour), provider next keeps a provider's
--    rows together for `provider = ...` and for compression;
--  - span_id last makes the key unique per span, as ReplacingMergeTree's dedupe needs. model is
--    not in the key: it is Nullable, which a sorting key does not allow without allow_nullable_key.
-- Partitions are months of ts_start; TTL removes expired rows in background merges
-- (merge_with_ttl_timeout, 4 hours by default).

CREATE DATABASE IF NOT EXISTS {database};

CREATE TABLE IF NOT EXISTS {database}.{table}
(
    span_id            String                             CODEC(ZSTD(1)),
    trace_id           Nullable(String)                   CODEC(ZSTD(1)),
    parent_span_id     Nullable(String)                   CODEC(ZSTD(1)),
    session_id         Nullable(String)                   CODEC(ZSTD(1)),
    user_id            Nullable(String)                   CODEC(ZSTD(1)),
    ts_start           DateTime64(6, 'UTC')               CODEC(Delta, ZSTD(1)),
    ts_end             DateTime64(6, 'UTC')               CODEC(Delta, ZSTD(1)),
    latency_ms         Float64                            CODEC(ZSTD(3)),
    ttft_ms            Nullable(Float64)                  CODEC(ZSTD(3)),
    upstream_ms        Float64                            CODEC(ZSTD(3)),
    provider           LowCardinality(String)             CODEC(ZSTD(1)),
    model_requested    LowCardinality(Nullable(String))   CODEC(ZSTD(1)),
    model              LowCardinality(Nullable(String))   CODEC(ZSTD(1)),
    operation          LowCardinality(String)             CODEC(ZSTD(1)),
    endpoint           LowCardinality(String)             CODEC(ZSTD(1)),
    method             LowCardinality(String)             CODEC(ZSTD(1)),
    stream             Bool                               CODEC(ZSTD(1)),
    status             Int64                              CODEC(T64, ZSTD(1)),
    error_type         LowCardinality(Nullable(String))   CODEC(ZSTD(1)),
    finish_reason      LowCardinality(Nullable(String))   CODEC(ZSTD(1)),
    input_tokens       Nullable(Int64)                    CODEC(T64, ZSTD(1)),
    output_tokens      Nullable(Int64)                    CODEC(T64, ZSTD(1)),
    cache_read_tokens  Nullable(Int64)                    CODEC(T64, ZSTD(1)),
    cache_write_tokens Nullable(Int64)                    CODEC(T64, ZSTD(1)),
    reasoning_tokens   Nullable(Int64)                    CODEC(T64, ZSTD(1)),
    cost_usd           Nullable(Float64)                  CODEC(ZSTD(3)),
    request_bytes      Int64                              CODEC(T64, ZSTD(1)),
    response_bytes     Int64                              CODEC(T64, ZSTD(1)),
    api_key_hash       LowCardinality(Nullable(String))   CODEC(ZSTD(1)),
    properties         Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    -- The Plumb installation that wrote the row (its configured instance name).
    instance           LowCardinality(String)             CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts_start)
ORDER BY (toStartOfHour(ts_start), provider, span_id)
TTL toDateTime(ts_start) + INTERVAL {span_ttl_days} DAY
SETTINGS non_replicated_deduplication_window = {dedup_window};

-- Bodies live apart, as in Plumb's own store: most queries never read them, and they are most of
-- the bytes. One row per span that has a body (request_body or response_body not null); a span
-- without a row has NULL bodies. Both body columns are Nullable because an empty body ('') is not
-- a missing one. Sorted by span_id alone: span ids are time-ordered (UUIDv7 bits), so the key is
-- also a time order, and the primary index serves the `span_id IN (...)` lookups that fetch the
-- bodies of a query's result rows. Same two-level dedupe as spans; ts_start is here for the
-- partition and the TTL (same value as the span's). Kept for a shorter time than spans by default.
CREATE TABLE IF NOT EXISTS {database}.{bodies_table}
(
    span_id            String                             CODEC(ZSTD(1)),
    ts_start           DateTime64(6, 'UTC')               CODEC(Delta, ZSTD(1)),
    request_body       Nullable(String)                   CODEC(ZSTD(3)),
    response_body      Nullable(String)                   CODEC(ZSTD(3)),
    instance           LowCardinality(String)             CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts_start)
ORDER BY span_id
TTL toDateTime(ts_start) + INTERVAL {body_ttl_days} DAY
SETTINGS non_replicated_deduplication_window = {dedup_window};
