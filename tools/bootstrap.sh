#!/usr/bin/env bash
# Installs what Plumb needs on a fresh Debian machine, and nothing already there.
# Safe to re-run. Used by tools/run.sh and tools/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# openssl: the digest delivery tests make a self-signed certificate for their TLS mail server;
# the Vertex AI tests make the service account's RSA keys.
# redis-server: the control tests start their own Redis for limits and budgets shared by two servers.
apt_packages=(liblz4-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev libncurses-dev zlib1g-dev pkg-config tmux curl python3-venv openssl redis-server)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do [ -x "$d/swift" ] && export PATH="$d:$PATH"; done
fi
command -v swift >/dev/null 2>&1 || { echo "bootstrap: Swift 6 toolchain not found (expected swift on PATH or in /opt/swift)" >&2; exit 1; }

# Python test clients in ./.venv, reinstalled only when the requirements change.
if [ "${PLUMB_SKIP_VENV:-}" != "1" ]; then
  req=tools/requirements-test.txt
  stamp=.venv/.requirements.sha256
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ ! -x .venv/bin/python ]; then
    # A venv made by the python3 on PATH (pyenv's or Debian's).
    python3 -m venv .venv
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "bootstrap: installing Python test clients into .venv" >&2
    .venv/bin/pip install -q --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
  fi
fi
