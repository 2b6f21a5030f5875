# Sourced by the proxy benchmarks (proxy_soak.sh, proxy_allocs.sh): starts the static upstream
# (static_upstream.sh) and `plumb serve` (release, bodies stored, a fresh data directory) in
# front of it. Sets plumb_pid and plumb_url, keeps the processes it starts in `pids`, and stops
# them all (and whatever the caller adds to `pids`) on exit.
#
#   source tools/bench/plumb_on_static.sh
#   start_plumb_on_static WORKDIR UPSTREAM_PORT
pids=()
plumb_on_static_work=""
stop_plumb_on_static() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$plumb_on_static_work" ] && nginx -p "$plumb_on_static_work/static" -c nginx.conf -s stop 2>/dev/null || true
}
trap stop_plumb_on_static EXIT

start_plumb_on_static() {
  local work=$1 upstream_port=$2
  plumb_on_static_work=$work
  nginx -p "$work/static" -c nginx.conf -s stop 2>/dev/null || true
  tools/bench/static_upstream.sh "$work" "$upstream_port" >&2
  rm -rf "$work/data"
  printf '[providers.openai]\nbase_url = "http://127.0.0.1:%s"\n' "$upstream_port" > "$work/plumb.toml"
  .build/release/plumb serve --config "$work/plumb.toml" --data "$work/data" --listen 127.0.0.1:0 > "$work/plumb.log" 2>&1 & pids+=($!)
  plumb_pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/plumb.log" && break; sleep 0.1; done
  plumb_url=$(grep -o 'http://[0-9.:]*' "$work/plumb.log" | head -1)
}
