#!/bin/bash
# Bounded SIP load run: sipp calls the sipline daemon's simulated phones (which
# auto-answer quickly) with G.711 RTP from a pcap, then, in the same run, the
# same sipp UAC calls a sipp UAS (-sn uas -rtp_echo) as the reference.
# Prints calls/s achieved, failed calls, and CPU seconds per call of sipline
# (from /proc/<pid>/stat) beside those of the reference UAS, and their ratio.
# It stops by itself: at most MAX_CALLS calls and MAX_SECONDS seconds per run.
#
# MODE=bridge measures SIP-to-SIP bridging instead: in one run (1) the same
# UAC calls a sipp UAS (-sn uas -rtp_echo) directly, as the reference, and
# (2) it calls sipline, which bridges every call (a [[dialplan]] rule with
# steps = ["trunk:far"], or a "sip:" step with TARGET=sip) to a second sipp
# UAS. Besides calls/s, failures and CPU per call (sipline's beside the
# reference UAS's), it prints the call set-up time the UAC sees (INVITE sent
# to 200 OK received, from sipp's message trace, microseconds) in both runs,
# and sipp's own response-time average (1 ms resolution) as a cross-check.
#
# Settings (environment):
#   MODE=lines      "lines": calls to simulated phones; "bridge": see above
#   TARGET=trunk    bridge mode: route by "trunk" (a [[trunk]]) or a "sip" step
#   RATE=4          new calls per second
#   CONCURRENT=6    at most this many calls at once (keep it below PHONES,
#                   and in bridge mode below media.max_relays, 64)
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
MODE=${MODE:-lines}
TARGET=${TARGET:-trunk}
case "$MODE" in
  lines) ;;
  bridge)
    [[ "$TARGET" == trunk || "$TARGET" == sip ]] || { echo "load.sh: TARGET must be trunk or sip" >&2; exit 2; }
    (( CONCURRENT < 64 )) || { echo "load.sh: CONCURRENT must stay below media.max_relays (64)" >&2; exit 2; }
    ;;
  *) echo "load.sh: MODE must be lines or bridge" >&2; exit 2 ;;
esac

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
  echo "[auth]"
  echo "max_calls_per_source = 0       # one sipp address places every call"
  echo "calls_per_minute_per_source = 0"
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
# In bridge mode sipp also traces its messages, and the line goes on with the
# call set-up times (INVITE sent to 200 OK received) in milliseconds: "calls
# mean median p95 max rtd_mean", rtd_mean being sipp's own average (1 ms steps).
run_uac() {
  local target=$1 name=$2 start end trace=()
  [[ "$MODE" == bridge ]] && trace=(-trace_msg -message_file "$tmp/$name-msg.log")
  start=$(date +%s.%N)
  sipp "127.0.0.1:$target" -sf "$here/uac_load.xml" -inf "$tmp/numbers.csv" \
    -i 127.0.0.1 -p "$3" -mi 127.0.0.1 -mp "$4" -cp "$5" \
    -r "$RATE" -l "$CONCURRENT" -m "$MAX_CALLS" -d "$CALL_MS" -timeout "${MAX_SECONDS}s" \
    -buff_size 4194304 -nostdin -trace_stat -stf "$tmp/$name-stat.csv" -fd 1 "${trace[@]}" \
    > "$tmp/$name-sipp.out" 2>&1 || true
  end=$(date +%s.%N)
  # The last statistics line holds the cumulative counters.
  python3 - "$tmp/$name-stat.csv" "$start" "$end" "$MODE" "$tmp/$name-msg.log" <<'PY'
import datetime
import re
import statistics
import sys
try:
    rows = [l.rstrip("\n").split(";") for l in open(sys.argv[1]) if l.strip()]
    head, last = rows[0], rows[-1]
    ok = int(last[head.index("SuccessfulCall(C)")])
    failed = int(last[head.index("FailedCall(C)")])
except (OSError, ValueError, IndexError):
    head, last = [], []
    ok, failed = 0, -1  # no statistics: sipp did not run (see its .out file)
line = [str(ok), str(failed), "%.2f" % (float(sys.argv[3]) - float(sys.argv[2]))]
if sys.argv[4] == "bridge":
    # Message trace: blocks that start with a dashed line and a timestamp.
    # Per Call-ID: the first INVITE sent, and the first 200 to it received.
    sent, answered = {}, {}
    try:
        text = open(sys.argv[5], errors="replace").read()
    except OSError:
        text = ""
    for block in re.split(r"^-{20,} ", text, flags=re.M)[1:]:
        stamp, _, rest = block.partition("\n")
        try:
            t = datetime.datetime.strptime(stamp.strip(), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        except ValueError:
            continue
        call = re.search(r"^Call-ID:\s*(\S+)", rest, flags=re.M | re.I)
        cseq = re.search(r"^CSeq:\s*\d+\s+(\w+)", rest, flags=re.M | re.I)
        if not call or not cseq or cseq.group(1).upper() != "INVITE":
            continue
        cid = call.group(1)
        if " sent" in rest.split("\n", 1)[0] and re.search(r"^\s*INVITE ", rest, flags=re.M):
            sent.setdefault(cid, t)
        elif " received" in rest.split("\n", 1)[0] and re.search(r"^\s*SIP/2.0 200", rest, flags=re.M):
            answered.setdefault(cid, t)
    setup = sorted(1000 * (answered[c] - sent[c]) for c in answered if c in sent)
    def ms(v):
        f = v.split(":")  # HH:MM:SS:uuuuuu
        return (int(f[0]) * 3600 + int(f[1]) * 60 + int(f[2])) * 1000 + int(f[3]) / 1000
    try:
        rtd = "%.3f" % ms(last[head.index("ResponseTime1(C)")])
    except (ValueError, IndexError):
        rtd = "nan"
    if setup:
        line += [str(len(setup)), "%.3f" % statistics.mean(setup), "%.3f" % statistics.median(setup),
                 "%.3f" % setup[min(len(setup) - 1, int(0.95 * len(setup)))], "%.3f" % setup[-1], rtd]
    else:
        line += ["0", "nan", "nan", "nan", "nan", rtd]
print(" ".join(line))
PY
}

report() {  # name successful failed wall cpu
  awk -v n="$1" -v ok="$2" -v f="$3" -v w="$4" -v c="$5" 'BEGIN {
    printf "%-26s %6d ok %5d failed  %7.2f calls/s  %6.2f cpu s  %8.3f cpu ms/call\n",
      n, ok, f, (w > 0 ? ok / w : 0), c, (ok > 0 ? 1000 * c / ok : 0) }'
}

# start_uas NAME SIP MEDIA CTL: a sipp UAS that answers and echoes RTP; sets uas_started to its pid.
start_uas() {
  sipp -sn uas -i 127.0.0.1 -p "$2" -mi 127.0.0.1 -mp "$3" -cp "$4" \
    -rtp_echo -buff_size 4194304 -nostdin -timeout "$(( MAX_SECONDS + 10 ))s" > "$tmp/$1.out" 2>&1 &
  uas_started=$!
  pids+=("$uas_started")
  sleep 0.5
  kill -0 "$uas_started" 2>/dev/null || { echo "sipp uas $1 exited:"; tail -5 "$tmp/$1.out"; exit 1; }
}

setup_line() {  # name calls mean median p95 max rtd_mean
  awk -v n="$1" -v c="$2" -v a="$3" -v m="$4" -v p="$5" -v x="$6" -v r="$7" 'BEGIN {
    printf "%-26s %6d calls  mean %7.3f  median %7.3f  p95 %7.3f  max %7.3f ms  (sipp rtd mean %s ms)\n",
      n, c, a, m, p, x, r }'
}

# Bridge mode: sipp UAC -> sipp UAS (reference), then sipp UAC -> sipline -> sipp UAS.
run_bridge() {
  local number=5551234 step brtp_count=$(( CONCURRENT * 8 + 40 )) far_pid ref_pid
  alloc far_port; alloc far_media 6; alloc far_ctl
  alloc brtp_min "$brtp_count"
  if [[ "$TARGET" == trunk ]]; then step="trunk:far"; else step="sip:\$digits@127.0.0.1:$far_port"; fi
  printf 'SEQUENTIAL\n%s;\n' "$number" > "$tmp/numbers.csv"
  {
    echo "[sip]"
    echo "address = \"127.0.0.1\""
    echo "port = $gw_port"
    echo "transports = [\"udp\"]"
    echo "[media]"
    echo "rtp_port_min = $brtp_min"
    echo "rtp_port_max = $(( brtp_min + brtp_count - 1 ))"
    echo "[control]"
    echo "socket = \"$socket\""
    echo "[log]"
    echo "level = \"warn\""
    echo "[lines]"
    echo "driver = \"sim\""
    echo "[auth]"
    echo "max_calls_per_source = 0"
    echo "calls_per_minute_per_source = 0"
    echo "[routing]"
    echo "sip_callers = \"bridge\""
    echo "[[trunk]]"
    echo "name = \"far\""
    echo "uri = \"sip:127.0.0.1:$far_port\""
    echo "number_format = \"dialed\""
    echo "[[dialplan]]"
    echo "pattern = \"555XXXX\""
    echo "steps = [\"$step\"]"
    echo "allow = [\"127.0.0.0/8\"]"
  } > "$tmp/bridge.toml"

  echo "bridge load: $MAX_CALLS calls max, ${MAX_SECONDS}s max, $RATE calls/s, $CONCURRENT concurrent," \
    "${CALL_MS} ms each, step \"$step\""

  # 1. sipp -> sipp UAS (reference)
  start_uas ref-uas "$uas_port" "$uas_media" "$uas_ctl"
  ref_pid=$uas_started
  local uas_cpu0 uas_cpu ref_ok ref_failed ref_wall ref_n ref_mean ref_med ref_p95 ref_max ref_rtd
  uas_cpu0=$(cpu_seconds "$ref_pid")
  read -r ref_ok ref_failed ref_wall ref_n ref_mean ref_med ref_p95 ref_max ref_rtd \
    < <(run_uac "$uas_port" reference "$uac2_sip" "$uac2_media" "$uac2_ctl")
  uas_cpu=$(awk -v a="$uas_cpu0" -v b="$(cpu_seconds "$ref_pid")" 'BEGIN { printf "%.2f", b - a }')
  kill "$ref_pid" 2>/dev/null || true

  # 2. sipp -> sipline -> sipp UAS
  start_uas far-uas "$far_port" "$far_media" "$far_ctl"
  far_pid=$uas_started
  "$sipline" --config "$tmp/bridge.toml" > "$tmp/sipline.log" 2>&1 &
  gw_pid=$!
  pids+=("$gw_pid")
  for _ in $(seq 100); do
    "$siplinectl" --socket "$socket" status >/dev/null 2>&1 && break
    kill -0 "$gw_pid" 2>/dev/null || { echo "sipline exited:"; tail -20 "$tmp/sipline.log"; exit 1; }
    sleep 0.1
  done
  local gw_cpu0 far_cpu0 gw_cpu far_cpu br_ok br_failed br_wall br_n br_mean br_med br_p95 br_max br_rtd
  gw_cpu0=$(cpu_seconds "$gw_pid")
  far_cpu0=$(cpu_seconds "$far_pid")
  read -r br_ok br_failed br_wall br_n br_mean br_med br_p95 br_max br_rtd \
    < <(run_uac "$gw_port" bridged "$uac1_sip" "$uac1_media" "$uac1_ctl")
  gw_cpu=$(awk -v a="$gw_cpu0" -v b="$(cpu_seconds "$gw_pid")" 'BEGIN { printf "%.2f", b - a }')
  far_cpu=$(awk -v a="$far_cpu0" -v b="$(cpu_seconds "$far_pid")" 'BEGIN { printf "%.2f", b - a }')

  echo
  report "sipp -> sipp uas (ref)" "$ref_ok" "$ref_failed" "$ref_wall" "$uas_cpu"
  report "sipp -> sipline -> uas" "$br_ok" "$br_failed" "$br_wall" "$gw_cpu"
  report "  (far sipp uas)" "$br_ok" 0 "$br_wall" "$far_cpu"
  awk -v g="$gw_cpu" -v go="$br_ok" -v r="$uas_cpu" -v ro="$ref_ok" 'BEGIN {
    if (go > 0 && ro > 0 && r > 0) printf "sipline cpu per bridged call / sipp uas cpu per call = %.1f\n", (g / go) / (r / ro);
    else print "ratio: not enough data (no successful calls or no reference CPU time)" }'
  echo "call set-up seen by the UAC (INVITE sent -> 200 OK received):"
  setup_line "  direct to sipp uas" "$ref_n" "$ref_mean" "$ref_med" "$ref_p95" "$ref_max" "$ref_rtd"
  setup_line "  through sipline" "$br_n" "$br_mean" "$br_med" "$br_p95" "$br_max" "$br_rtd"
  awk -v rm="$ref_mean" -v bm="$br_mean" -v rd="$ref_med" -v bd="$br_med" 'BEGIN {
    if (rm == "nan" || bm == "nan") { print "added set-up latency: not enough data"; exit }
    printf "added by the bridge: mean %+.3f ms (x%.1f), median %+.3f ms (x%.1f)\n",
      bm - rm, (rm > 0 ? bm / rm : 0), bd - rd, (rd > 0 ? bd / rd : 0) }'
  if ! kill -0 "$gw_pid" 2>/dev/null; then
    echo "sipline died during the run:"; tail -20 "$tmp/sipline.log"; exit 1
  fi
  local warnings
  warnings=$(grep -c . "$tmp/sipline.log" || true)
  (( warnings == 0 )) || { echo "sipline logged $warnings line(s) at warn or above; last ones:"; tail -5 "$tmp/sipline.log"; }
}

if [[ "$MODE" == bridge ]]; then
  run_bridge
  exit 0
fi

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
