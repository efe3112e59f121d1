#!/bin/bash
# Serves docs/examples/e164.arpa.zone with a private knotd on 127.0.0.1:5353
# (foreground; Ctrl-C stops it and removes its temp dir). For the README's
# ENUM walk-through; the tests start their own knotd (tests/harness/knot_server).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${PORT:-5353}
command -v knotd >/dev/null || { echo "knotd is missing: apt-get install knot knot-dnsutils" >&2; exit 1; }
dir=$(mktemp -d /tmp/sipline-enum-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/run" "$dir/db" "$dir/zones"
cp "$root/docs/examples/e164.arpa.zone" "$dir/zones/e164.arpa.zone"
cat > "$dir/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$port
    rundir: $dir/run
database:
    storage: $dir/db
log:
  - target: stderr
    any: info
template:
  - id: default
    storage: $dir/zones
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: e164.arpa
CONF
echo "serving e164.arpa on 127.0.0.1:$port (Ctrl-C to stop)" >&2
knotd -c "$dir/knot.conf"
