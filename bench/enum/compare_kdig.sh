#!/bin/bash
# One ENUM lookup per process: `sipline-enum +81312345678` beside Knot's
# `kdig NAPTR 8.7.6.5.4.3.2.1.3.1.8.e164.arpa` as the reference, both against
# the same private knotd on 127.0.0.1 serving tests/fixtures/dns/e164.arpa.zone,
# measured in the same run. Each process does one DNS query (sipline-enum's
# cache is empty at start); sipline-enum also applies the NAPTR rules and
# prints JSON, kdig prints the records. Prints the median and mean wall time
# per process of each and their ratio, then one `sipline-enum --repeat N
# --json` run: the first lookup (a DNS query) and the median of the others
# (answered from the cache), as sipline-enum itself measures them.
#
# Timing: hyperfine (-N, no shell) when installed (apt-get install hyperfine),
# otherwise a bash loop with $EPOCHREALTIME around each process, alternating
# the two commands so that drift of a noisy machine hits both alike.
#
# Settings (environment, or N as the first argument):
#   N=100           processes of each command (at most 200)
#   MAX_SECONDS=50  the bash loop stops early past this (the count is printed)
#   TIMER=auto      auto | hyperfine | loop
#   BUILD_DIR=build the sipline build directory (for tools/sipline-enum)
# Needs knotd and kdig (package knot, knot-dnsutils) and jq. Starts its own
# knotd on a free port and removes it and its temporary directory on exit.
# Not part of ctest.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
[[ "$build_dir" = /* ]] || build_dir="$root/$build_dir"
N=${1:-${N:-100}}
MAX_SECONDS=${MAX_SECONDS:-50}
TIMER=${TIMER:-auto}
number="+81312345678"
domain="8.7.6.5.4.3.2.1.3.1.8.e164.arpa"
expected_uri="sip:312345678@jp.example.test"

[[ "$N" =~ ^[0-9]+$ && "$N" -ge 1 ]] || { echo "compare_kdig.sh: N must be a positive number" >&2; exit 2; }
(( N <= 200 )) || N=200
tool="$build_dir/tools/sipline-enum"
for t in knotd kdig jq "$tool"; do
  command -v "$t" >/dev/null || { echo "compare_kdig.sh: $t not found" >&2; exit 2; }
done
if [[ "$TIMER" == auto ]]; then
  if command -v hyperfine >/dev/null; then TIMER=hyperfine; else TIMER=loop; fi
fi

tmp=$(mktemp -d /tmp/sipline-enum-kdig-XXXXXX)
knotd_pid=""
cleanup() {
  if [[ -n "$knotd_pid" ]]; then
    kill -TERM "$knotd_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$knotd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$knotd_pid" 2>/dev/null || true
    wait "$knotd_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port free for both UDP and TCP (knotd listens on both).
port=""
for _ in $(seq 50); do
  p=$(( 20000 + RANDOM % 30000 ))
  if [[ -z "$(ss -Hlnu "sport = :$p")" && -z "$(ss -Hlnt "sport = :$p")" ]]; then port=$p; break; fi
done
[[ -n "$port" ]] || { echo "compare_kdig.sh: no free port" >&2; exit 1; }

mkdir -p "$tmp/run" "$tmp/db" "$tmp/zones"
cp "$root/tests/fixtures/dns/e164.arpa.zone" "$tmp/zones/"
cat >"$tmp/knot.conf" <<EOF
server:
    listen: 127.0.0.1@$port
    rundir: $tmp/run
    pidfile: $tmp/run/knot.pid
    udp-workers: 2
    tcp-workers: 1
    background-workers: 1
database:
    storage: $tmp/db
control:
    listen: $tmp/run/knot.sock
log:
  - target: stderr
    any: info
template:
  - id: default
    storage: $tmp/zones
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: e164.arpa
EOF
knotd -c "$tmp/knot.conf" >"$tmp/knotd.log" 2>&1 &
knotd_pid=$!

kdig_cmd=(kdig "@127.0.0.1" -p "$port" +time=1 +retry=0 NAPTR "$domain")
enum_cmd=("$tool" "$number" --server "127.0.0.1:$port" --suffix e164.arpa --timeout-ms 1000 --json)

ready=0
for _ in $(seq 100); do
  kill -0 "$knotd_pid" 2>/dev/null || break
  if [[ -n "$(kdig @127.0.0.1 -p "$port" +time=1 +retry=0 +short SOA e164.arpa 2>/dev/null)" ]]; then ready=1; break; fi
  sleep 0.1
done
if (( ! ready )); then
  echo "compare_kdig.sh: knotd does not serve e164.arpa on port $port; its log:" >&2
  tail -20 "$tmp/knotd.log" >&2
  exit 1
fi

# Both must give the zone's answer before they are timed.
naptrs=$("${kdig_cmd[@]}" +short | grep -c . || true)
first=$("${enum_cmd[@]}" | jq -r '.targets[0].uri')
if [[ "$naptrs" != 6 || "$first" != "$expected_uri" ]]; then
  echo "compare_kdig.sh: unexpected answers: kdig $naptrs NAPTRs (want 6), sipline-enum '$first'" >&2
  exit 1
fi
echo "knotd on 127.0.0.1:$port; $N processes each; timer: $TIMER"

# median and mean of the numbers (ms) on stdin, as "median mean count".
stats() { sort -g | awk '{ v[NR] = $1; s += $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f %d\n", m, s / NR, NR }'; }

if [[ "$TIMER" == hyperfine ]]; then
  hyperfine -N --runs "$N" --warmup 5 --style none --export-json "$tmp/hyperfine.json" \
    -n kdig "${kdig_cmd[*]}" -n sipline-enum "${enum_cmd[*]}" >"$tmp/hyperfine.out" 2>&1 || {
    cat "$tmp/hyperfine.out" >&2
    exit 1
  }
  read -r kdig_median kdig_mean kdig_n < <(jq -r '.results[0].times[] * 1000' "$tmp/hyperfine.json" | stats)
  read -r enum_median enum_mean enum_n < <(jq -r '.results[1].times[] * 1000' "$tmp/hyperfine.json" | stats)
else
  : >"$tmp/kdig.ms"
  : >"$tmp/enum.ms"
  for _ in 1 2 3 4 5; do "${kdig_cmd[@]}" >/dev/null; "${enum_cmd[@]}" >/dev/null; done  # warm-up
  start=$SECONDS
  for (( i = 0; i < N && SECONDS - start < MAX_SECONDS; i++ )); do
    t0=$EPOCHREALTIME; "${kdig_cmd[@]}" >/dev/null; t1=$EPOCHREALTIME
    "${enum_cmd[@]}" >/dev/null; t2=$EPOCHREALTIME
    echo "${t0/./} ${t1/./}" | awk '{ printf "%.3f\n", ($2 - $1) / 1000 }' >>"$tmp/kdig.ms"
    echo "${t1/./} ${t2/./}" | awk '{ printf "%.3f\n", ($2 - $1) / 1000 }' >>"$tmp/enum.ms"
  done
  read -r kdig_median kdig_mean kdig_n < <(stats <"$tmp/kdig.ms")
  read -r enum_median enum_mean enum_n < <(stats <"$tmp/enum.ms")
fi

printf '%-14s %6s %12s %10s\n' "per process" runs "median ms" "mean ms"
printf '%-14s %6d %12.3f %10.3f\n' kdig "$kdig_n" "$kdig_median" "$kdig_mean"
printf '%-14s %6d %12.3f %10.3f\n' sipline-enum "$enum_n" "$enum_median" "$enum_mean"
awk -v a="$enum_median" -v b="$kdig_median" -v c="$enum_mean" -v d="$kdig_mean" \
  'BEGIN { printf "ratio sipline-enum / kdig: median %.2f, mean %.2f\n", a / b, c / d }'

# One process, N lookups: the first asks knotd, the others hit the cache.
"${enum_cmd[@]}" --repeat "$N" >"$tmp/repeat.json"
printf 'sipline-enum --repeat %d: first lookup (DNS) %.3f ms' "$N" "$(jq -r '.ms' "$tmp/repeat.json" | head -1)"
if (( N >= 2 )); then
  read -r cached_median _ cached_n < <(jq -r '.ms' "$tmp/repeat.json" | tail -n +2 | stats)
  printf ', median of the %d cached lookups %.3f ms' "$cached_n" "$cached_median"
fi
echo
