#!/bin/bash
# Bounded SIP load run: sipp calls the sipline daemon's simulated phones (which
# auto-answer quickly) with G.711 RTP from a pcap, then, in the same run, the
# same sipp UAC calls a sipp UAS (-sn uas -rtp_echo) as the reference.
# Prints calls/s achieved, failed calls, and CPU seconds per call of sipline
# (from /proc/<pid>/stat) beside those of the reference UAS, and their ratio.
# It stops by itself: at most MAX_CALLS calls and MAX_SECONDS seconds per run.
#
# Settings (environment):
#   RATE=4          new calls per second
#   CONCURRENT=6    at most this many calls at once (keep it below PHONES)
#   MAX_CALLS=100   calls per run
#   MAX_SECONDS=60  hard limit per run
#   CALL_MS=2000    how long each call lasts once answered
#   PHONES=8        simulated phones (numbers 301...) that auto-answer
#   ANSWER_MS=20    their auto-answer delay
#   BUILD_DIR=build the sipline build directory
# Needs sipp (sip-tester) and python3. Not part of ctest.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/bench/sipp"
build_dir=${BUILD_DIR:-$root/build}
[[ "$build_dir" = /* ]] || build_dir="$root/$build_dir"
RATE=${RATE:-4}
CONCURRENT=${CONCURRENT:-6}
MAX_CALLS=${MAX_CALLS:-100}
MAX_SECONDS=${MAX_SECONDS:-60}
CALL_MS=${CALL_MS:-2000}
PHONES=${PHONES:-8}
ANSWER_MS=${ANSWER_MS:-20}

sipline="$build_dir/gateway/sipline"
siplinectl="$build_dir/tools/siplinectl"
for tool in sipp python3 "$sipline" "$siplinectl"; do
  command -v "$tool" >/dev/null || { echo "load.sh: $tool not found" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/sipline-load-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [[ "${KEEP:-0}" != "1" ]]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}
trap cleanup EXIT

# alloc VAR [COUNT]: sets VAR to a free even port (UDP and TCP) in 20000-29999,
# the first of COUNT consecutive ones. Runs in this shell (no $(...)) so that
# it remembers what it handed out.
used=" "
alloc() {
  local var=$1 count=${2:-1} p i ok
  for _ in $(seq 200); do
    p=$(( (RANDOM % 5000) * 2 + 20000 ))
    ok=1
    for ((i = p; i < p + count; i++)); do
      if [[ "$used" == *" $i "* ]] || [[ -n "$(ss -Hlnua "sport = :$i" 2>/dev/null)" ]] ||
         [[ -n "$(ss -Hlnta "sport = :$i" 2>/dev/null)" ]]; then
        ok=0
        break
      fi
    done
    if [[ $ok == 1 ]]; then
      for ((i = p; i < p + count; i++)); do used+="$i "; done
      printf -v "$var" '%s' "$p"
      return
    fi
  done
  echo "load.sh: no free port" >&2
  exit 2
}

cpu_seconds() {  # utime + stime of a pid, in seconds
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}

rtp_count=$(( PHONES * 4 + 40 ))
alloc gw_port
alloc rtp_min "$rtp_count"
alloc uac1_sip; alloc uac1_media 6; alloc uac1_ctl
alloc uac2_sip; alloc uac2_media 6; alloc uac2_ctl
alloc uas_port; alloc uas_media 6; alloc uas_ctl
socket="$tmp/ctl.sock"
{
  echo "[sip]"
  echo "address = \"127.0.0.1\""
  echo "port = $gw_port"
  echo "transports = [\"udp\"]"
  echo "[media]"
  echo "rtp_port_min = $rtp_min"
  echo "rtp_port_max = $(( rtp_min + rtp_count - 1 ))"
  echo "[control]"
  echo "socket = \"$socket\""
  echo "[log]"
  echo "level = \"warn\""
  echo "[lines]"
  echo "driver = \"sim\""
  for ((i = 1; i <= PHONES; i++)); do
    echo "[[lines.port]]"
    echo "name = \"fxs$i\""
    echo "kind = \"fxs\""
    echo "number = \"$(( 300 + i ))\""
    echo "auto_answer_ms = $ANSWER_MS"
  done
} > "$tmp/bench.toml"
{
  echo "SEQUENTIAL"
  for ((i = 1; i <= PHONES; i++)); do echo "$(( 300 + i ));"; done
} > "$tmp/numbers.csv"

# run_uac TARGET_PORT NAME SIP MEDIA CTL: one sipp UAC run; prints "successful failed wall_seconds".
run_uac() {
  local target=$1 name=$2 start end
  start=$(date +%s.%N)
  sipp "127.0.0.1:$target" -sf "$here/uac_load.xml" -inf "$tmp/numbers.csv" \
    -i 127.0.0.1 -p "$3" -mi 127.0.0.1 -mp "$4" -cp "$5" \
    -r "$RATE" -l "$CONCURRENT" -m "$MAX_CALLS" -d "$CALL_MS" -timeout "${MAX_SECONDS}s" \
    -buff_size 4194304 -nostdin -trace_stat -stf "$tmp/$name-stat.csv" -fd 1 \
    > "$tmp/$name-sipp.out" 2>&1 || true
  end=$(date +%s.%N)
  # The last statistics line holds the cumulative counters.
  python3 - "$tmp/$name-stat.csv" "$start" "$end" <<'PY'
import sys
try:
    rows = [l.rstrip("\n").split(";") for l in open(sys.argv[1]) if l.strip()]
    head, last = rows[0], rows[-1]
    ok = int(last[head.index("SuccessfulCall(C)")])
    failed = int(last[head.index("FailedCall(C)")])
except (OSError, ValueError, IndexError):
    ok, failed = 0, -1  # no statistics: sipp did not run (see its .out file)
print(ok, failed, "%.2f" % (float(sys.argv[3]) - float(sys.argv[2])))
PY
}

report() {  # name successful failed wall cpu
  awk -v n="$1" -v ok="$2" -v f="$3" -v w="$4" -v c="$5" 'BEGIN {
    printf "%-26s %6d ok %5d failed  %7.2f calls/s  %6.2f cpu s  %8.3f cpu ms/call\n",
      n, ok, f, (w > 0 ? ok / w : 0), c, (ok > 0 ? 1000 * c / ok : 0) }'
}

echo "load: $MAX_CALLS calls max, ${MAX_SECONDS}s max, $RATE calls/s, $CONCURRENT concurrent, ${CALL_MS} ms each, $PHONES phones"

# 1. sipp -> sipline
"$sipline" --config "$tmp/bench.toml" > "$tmp/sipline.log" 2>&1 &
gw_pid=$!
pids+=("$gw_pid")
for _ in $(seq 100); do
  "$siplinectl" --socket "$socket" status >/dev/null 2>&1 && break
  kill -0 "$gw_pid" 2>/dev/null || { echo "sipline exited:"; tail -20 "$tmp/sipline.log"; exit 1; }
  sleep 0.1
done
python3 "$here/hangup_phones.py" "$socket" &
pids+=("$!")
gw_cpu0=$(cpu_seconds "$gw_pid")
read -r gw_ok gw_failed gw_wall < <(run_uac "$gw_port" gateway "$uac1_sip" "$uac1_media" "$uac1_ctl")
gw_cpu=$(awk -v a="$gw_cpu0" -v b="$(cpu_seconds "$gw_pid")" 'BEGIN { printf "%.2f", b - a }')

# 2. sipp -> sipp UAS (reference)
sipp -sn uas -i 127.0.0.1 -p "$uas_port" -mi 127.0.0.1 -mp "$uas_media" -cp "$uas_ctl" \
  -rtp_echo -buff_size 4194304 -nostdin -timeout "$(( MAX_SECONDS + 10 ))s" > "$tmp/uas.out" 2>&1 &
uas_pid=$!
pids+=("$uas_pid")
sleep 0.5
uas_cpu0=$(cpu_seconds "$uas_pid")
read -r ref_ok ref_failed ref_wall < <(run_uac "$uas_port" reference "$uac2_sip" "$uac2_media" "$uac2_ctl")
uas_cpu=$(awk -v a="$uas_cpu0" -v b="$(cpu_seconds "$uas_pid")" 'BEGIN { printf "%.2f", b - a }')

echo
report "sipp -> sipline" "$gw_ok" "$gw_failed" "$gw_wall" "$gw_cpu"
report "sipp -> sipp uas (ref)" "$ref_ok" "$ref_failed" "$ref_wall" "$uas_cpu"
awk -v g="$gw_cpu" -v go="$gw_ok" -v r="$uas_cpu" -v ro="$ref_ok" 'BEGIN {
  if (go > 0 && ro > 0 && r > 0) printf "sipline cpu per call / sipp uas cpu per call = %.1f\n", (g / go) / (r / ro);
  else print "ratio: not enough data (no successful calls or no reference CPU time)" }'
if ! kill -0 "$gw_pid" 2>/dev/null; then
  echo "sipline died during the run:"; tail -20 "$tmp/sipline.log"; exit 1
fi
