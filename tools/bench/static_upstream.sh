#!/usr/bin/env bash
# A static upstream for the proxy benchmarks (issue 24): nginx answering every POST with the same
# recorded OpenAI chat completion (about 1 KB), or with a recorded SSE stream when the request
# carries `X-Bench-Stream: 1` (Plumb forwards the header). The bodies are recorded once from
# plumb-mock, so they are the real wire format (usage included) and Plumb parses them as it would
# a provider's; answering them costs nginx a file read, far less than a proxy's work.
#
#   tools/bench/static_upstream.sh WORKDIR PORT      # starts nginx (daemon), prints its URL
#   nginx -p WORKDIR/static -c nginx.conf -s stop    # stops it
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:?usage: static_upstream.sh WORKDIR PORT}
port=${2:?usage: static_upstream.sh WORKDIR PORT}
dir="$work/static"
mkdir -p "$dir/www/v1" "$dir/logs"
command -v nginx >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
[ -x .build/release/plumb-mock ] || swift build -c release --product plumb-mock >/dev/null
# Record the two answers from plumb-mock (the same request the benchmarks send).
.build/release/plumb-mock --listen 127.0.0.1:0 > "$dir/mock.log" 2>&1 &
mock=$!
trap 'kill $mock 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "listening on" "$dir/mock.log" && break; sleep 0.05; done
mock_url=$(grep -o 'http://[0-9.:]*' "$dir/mock.log" | head -1)
prompt=$(printf 'Summarise the following log line for the on-call engineer. %.0s' $(seq 15))
body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"'"$prompt"'"}]}'
curl -sf "$mock_url/v1/chat/completions" -H 'Content-Type: application/json' -H 'X-Mock-Seed: 1' -d "$body" > "$dir/www/v1/completion.json"
stream_body='{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"'"$prompt"'"}]}'
curl -sfN "$mock_url/v1/chat/completions" -H 'Content-Type: application/json' -H 'X-Mock-Seed: 1' -d "$stream_body" > "$dir/www/v1/stream.sse"
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_buffer_size 64k;
    server {
        listen 127.0.0.1:$port reuseport backlog=4096;
        root $dir/www;
        # POST to a static file is refused (405) by nginx: answer it as a GET of the same file.
        error_page 405 =200 \$uri;
        location / {
            default_type application/json;
            if (\$http_x_bench_stream) { rewrite ^ /v1/stream.sse last; }
            rewrite ^ /v1/completion.json break;
        }
        location = /v1/stream.sse { default_type text/event-stream; }
    }
}
CONF
nginx -p "$dir" -c nginx.conf
echo "static upstream on http://127.0.0.1:$port ($(wc -c < "$dir/www/v1/completion.json") B completion, $(wc -c < "$dir/www/v1/stream.sse") B stream)"
