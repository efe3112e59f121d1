#!/bin/bash
# Bounded REGISTER load run: authenticated REGISTERs per second of sipline's
# registrar beside kamailio's registrar, with the same sipp scenario in the
# same run. Every sipp "call" is one registration: REGISTER, 401 (digest MD5
# challenge), REGISTER with credentials, 200. Users come from an injection file
# (user1..userN, password "secret"), so consecutive calls register different
# users.
#
# Servers, each started fresh for each rate and each driven by its own sipp:
#   sipline (memory)   [registrar] database = "" (SQLite ":memory:")
#   sipline (sqlite)   [registrar] database = a SQLite file in the temp dir
#   kamailio           registrar + usrloc (memory, db_mode 0), auth with
#                      pv_www_authenticate, passwords from an htable filled at
#                      start (no database), one UDP worker (children=1, as
#                      sipline answers REGISTER on its single control thread),
#                      -x fm (Debian's build debugs its default allocator)
# Both challenge with MD5 and qop=auth and check nonces statelessly (kamailio's
# nonce_count is off: sipline remembers the highest nc per nonce, which costs
# it a little more). sipline runs with [auth] trusted = [] and
# ban_after_failures = 0 (kamailio bans nobody either).
#
# Printed per rate: registrations/s achieved (successful / sipp's wall time),
# failed registrations, retransmissions, CPU seconds of the server (utime +
# stime from /proc: sipline's process; kamailio's main process and all its
# children), CPU per registration (two requests, two replies), and the ratio
# sipline / kamailio of CPU per registration.
# It stops by itself: at most MAX_REGS registrations and MAX_SECONDS seconds
# per sipp run. Loopback only.
#
# Settings (environment):
#   RATES="500"     registrations/s to offer, one run per value (e.g.
#                   RATES="500 1000 2000 4000" to look for the highest rate
#                   that still completes without failures)
#   MAX_REGS=5000   registrations per sipp run
#   MAX_SECONDS=30  hard limit per sipp run
#   USERS=100       users user1..userN
#   EXPIRES=300     the Expires of every REGISTER
#   CHILDREN=1      kamailio's UDP worker processes
#   SERVERS="sipline-mem sipline-sqlite kamailio"
#   BUILD_DIR=build the sipline build directory
# Needs sipp (sip-tester) and python3; installs kamailio (apt, as root) when it
# is missing. As root it raises net.core.rmem_max and rmem_default to 8 MB for
# the run (4 MB receive buffers for sipp, kamailio and sipline's sockets) and
# restores them on exit. Not part of ctest.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
[[ "$build_dir" = /* ]] || build_dir="$root/$build_dir"
RATES=${RATES:-500}
MAX_REGS=${MAX_REGS:-5000}
MAX_SECONDS=${MAX_SECONDS:-30}
USERS=${USERS:-100}
EXPIRES=${EXPIRES:-300}
CHILDREN=${CHILDREN:-1}
SERVERS=${SERVERS:-sipline-mem sipline-sqlite kamailio}

sipline="$build_dir/gateway/sipline"
if ! command -v kamailio >/dev/null && [[ " $SERVERS " == *" kamailio "* ]]; then
  if [[ $(id -u) == 0 ]]; then
    echo "register_load.sh: installing kamailio (for this benchmark only)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends kamailio >/dev/null
  else
    echo "register_load.sh: kamailio not found (as root: apt-get install --no-install-recommends kamailio)" >&2
    exit 2
  fi
fi
for tool in sipp python3 ss "$sipline"; do
  command -v "$tool" >/dev/null || { echo "register_load.sh: $tool not found" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/sipline-regload-XXXXXX)
pids=()
saved_sysctl=()
cleanup() {
  # sipp runs inside a process substitution: its pid is in a file.
  if [[ -f "$tmp/sipp.pid" ]]; then kill "$(cat "$tmp/sipp.pid")" 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  for s in "${saved_sysctl[@]}"; do sysctl -qw "$s" || true; done
  if [[ "${KEEP:-0}" != "1" ]]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ $(id -u) == 0 ]]; then
  for key in net.core.rmem_max net.core.rmem_default; do
    old=$(sysctl -n "$key")
    if (( old < 8388608 )); then
      saved_sysctl+=("$key=$old")
      sysctl -qw "$key=8388608"
    fi
  done
fi

# alloc VAR: sets VAR to a free even port (UDP and TCP) in 20000-29999.
# Runs in this shell (no $(...)) so that it remembers what it handed out.
used=" "
alloc() {
  local var=$1 p
  for _ in $(seq 200); do
    p=$(( (RANDOM % 5000) * 2 + 20000 ))
    if [[ "$used" != *" $p "* ]] && [[ -z "$(ss -Hlnua "sport = :$p" 2>/dev/null)" ]] &&
       [[ -z "$(ss -Hlnta "sport = :$p" 2>/dev/null)" ]]; then
      used+="$p "
      printf -v "$var" '%s' "$p"
      return
    fi
  done
  echo "register_load.sh: no free port" >&2
  exit 2
}

cpu_ticks() {  # utime + stime of a pid and its direct children, in clock ticks
  local pid=$1 sum=0 f s
  for f in /proc/[0-9]*/stat; do
    # Field 4 is the parent pid; the command name (field 2) has no spaces here.
    { read -r -a s < "$f"; } 2>/dev/null || continue
    if [[ "${s[0]}" == "$pid" || "${s[3]}" == "$pid" ]]; then
      sum=$(( sum + s[13] + s[14] ))
    fi
  done
  echo "$sum"
}
hz=$(getconf CLK_TCK)

# The scenario: the one of tests/fixtures/sipp/register_auth.xml, with the
# user taken from the injection file. sipp 3.6.1 cannot nest keywords inside
# [authentication username=...] (SIPp issue #640), but it expands keywords in
# the -au/-ap values, so it runs with -au '[field0]' -ap '[field1]'.
cat > "$tmp/register.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="register with digest, users from the injection file">
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Expires: [expires]
      Max-Forwards: 70
      User-Agent: sipline-bench-sipp
      Content-Length: 0

    ]]>
  </send>

  <recv response="401" auth="true" timeout="5000"/>

  <send retrans="500">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Expires: [expires]
      [authentication]
      Max-Forwards: 70
      User-Agent: sipline-bench-sipp
      Content-Length: 0

    ]]>
  </send>

  <recv response="200" timeout="5000"/>
</scenario>
XML
{
  echo "SEQUENTIAL"
  for ((i = 1; i <= USERS; i++)); do echo "user$i;secret"; done
} > "$tmp/users.csv"

write_sipline_config() {  # FILE PORT DATABASE
  {
    echo "[sip]"
    echo "address = \"127.0.0.1\""
    echo "port = $2"
    echo "transports = [\"udp\"]"
    echo "[control]"
    echo "socket = \"$tmp/ctl-$2.sock\""
    echo "[log]"
    echo "level = \"warn\""
    echo "[auth]"
    echo "algorithms = [\"MD5\"]"
    echo "trusted = []"
    echo "ban_after_failures = 0"
    echo "[registrar]"
    echo "database = \"$3\""
    for ((i = 1; i <= USERS; i++)); do
      echo "[[user]]"
      echo "name = \"user$i\""
      echo "password = \"secret\""
    done
  } > "$1"
}

write_kamailio_config() {  # FILE PORT
  cat > "$1" <<EOF
#!KAMAILIO
debug=1
log_stderror=yes
memdbg=5
memlog=5
children=$CHILDREN
listen=udp:127.0.0.1:$2
auto_aliases=no
disable_tcp=yes
maxbuffer=4194304
dns=no
rev_dns=no
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"

loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "htable.so"
loadmodule "auth.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"

modparam("htable", "htable", "users=>size=10;")
modparam("auth", "nonce_expire", 300)
modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_expires", 3600)
modparam("registrar", "min_expires", 60)
modparam("registrar", "max_contacts", 10)

event_route[htable:mod-init] {
  \$var(i) = 1;
  while (\$var(i) <= $USERS) {
    \$sht(users=>user\$var(i)) = "secret";
    \$var(i) = \$var(i) + 1;
  }
}

request_route {
  if (\$rm != "REGISTER") {
    sl_send_reply("405", "Method Not Allowed");
    exit;
  }
  if (\$sht(users=>\$fU) == \$null || !pv_www_authenticate("\$td", "\$sht(users=>\$fU)", "0")) {
    www_challenge("\$td", "1");
    exit;
  }
  if (!save("location")) {
    sl_reply_error();
  }
  exit;
}
EOF
}

wait_port() {  # PID PORT LOG: waits until PID listens on UDP PORT
  for _ in $(seq 100); do
    [[ -n "$(ss -Hlnu "sport = :$2" 2>/dev/null)" ]] && return 0
    kill -0 "$1" 2>/dev/null || { echo "server exited:"; tail -20 "$3"; exit 1; }
    sleep 0.1
  done
  echo "server did not bind UDP $2:"; tail -20 "$3"; exit 1
}

# start_server KIND PORT NAME: starts it; sets server_pid.
start_server() {
  local kind=$1 port=$2 name=$3
  case "$kind" in
    sipline-mem | sipline-sqlite)
      local db=""
      [[ "$kind" == sipline-sqlite ]] && db="$tmp/$name.sqlite"
      write_sipline_config "$tmp/$name.toml" "$port" "$db"
      "$sipline" --config "$tmp/$name.toml" > "$tmp/$name.log" 2>&1 &
      ;;
    kamailio)
      write_kamailio_config "$tmp/$name.cfg" "$port"
      mkdir -p "$tmp/$name-run"
      kamailio -f "$tmp/$name.cfg" -DD -E -x fm -m 256 -M 16 -Y "$tmp/$name-run" -w "$tmp" \
        > "$tmp/$name.log" 2>&1 &
      ;;
  esac
  server_pid=$!
  pids+=("$server_pid")
  wait_port "$server_pid" "$port" "$tmp/$name.log"
}

stop_server() {  # PID
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# run_sipp PORT NAME RATE: one bounded sipp run; prints "successful failed retransmissions wall_seconds".
run_sipp() {
  local sip ctl start end
  alloc sip; alloc ctl
  start=$(date +%s.%N)
  sipp "127.0.0.1:$1" -sf "$tmp/register.xml" -inf "$tmp/users.csv" -key expires "$EXPIRES" \
    -au '[field0]' -ap '[field1]' \
    -i 127.0.0.1 -p "$sip" -cp "$ctl" -r "$3" -m "$MAX_REGS" -timeout "${MAX_SECONDS}s" \
    -buff_size 4194304 -nostdin -trace_stat -stf "$tmp/$2-stat.csv" -fd 1 \
    > "$tmp/$2-sipp.out" 2>&1 &
  echo $! > "$tmp/sipp.pid"
  wait $! || true
  rm -f "$tmp/sipp.pid"
  end=$(date +%s.%N)
  python3 - "$tmp/$2-stat.csv" "$start" "$end" <<'PY'
import sys
try:
    rows = [l.rstrip("\n").split(";") for l in open(sys.argv[1]) if l.strip()]
    head, last = rows[0], rows[-1]
    ok = int(last[head.index("SuccessfulCall(C)")])
    failed = int(last[head.index("FailedCall(C)")])
    retrans = int(last[head.index("Retransmissions(C)")])
except (OSError, ValueError, IndexError):
    ok, failed, retrans = 0, -1, -1  # no statistics: sipp did not run (see its .out file)
print(ok, failed, retrans, "%.2f" % (float(sys.argv[3]) - float(sys.argv[2])))
PY
}

echo "register load: $MAX_REGS registrations max, ${MAX_SECONDS}s max per run, rates $RATES/s," \
  "$USERS users, Expires $EXPIRES, kamailio children=$CHILDREN"
echo "kamailio: $(kamailio -v 2>/dev/null | head -1 || echo none); sipp: $(sipp -v 2>/dev/null | grep -o 'v[0-9][^ ]*' | head -1)"
printf '\n%-16s %6s %7s %6s %7s %9s %7s %12s\n' server offered ok failed retrans "regs/s" "cpu s" "cpu ms/reg"
declare -A per_reg
for rate in $RATES; do
  for kind in $SERVERS; do
    alloc port
    name="$kind-$rate"
    start_server "$kind" "$port" "$name"
    pid=$server_pid
    sleep 0.3
    c0=$(cpu_ticks "$pid")
    read -r ok failed retrans wall < <(run_sipp "$port" "$name" "$rate")
    c1=$(cpu_ticks "$pid")
    if ! kill -0 "$pid" 2>/dev/null; then echo "$kind died during the run:"; tail -20 "$tmp/$name.log"; exit 1; fi
    stop_server "$pid"
    cpu=$(( c1 - c0 ))
    awk -v n="$kind" -v r="$rate" -v ok="$ok" -v f="$failed" -v rt="$retrans" -v w="$wall" -v c="$cpu" -v hz="$hz" 'BEGIN {
      printf "%-16s %6d %7d %6d %7d %9.1f %7.2f %12.4f\n", n, r, ok, f, rt, (w > 0 ? ok / w : 0), c / hz,
        (ok > 0 ? 1000 * c / hz / ok : 0) }'
    per_reg[$kind-$rate]=$(awk -v ok="$ok" -v c="$cpu" -v hz="$hz" 'BEGIN { printf "%.6f", (ok > 0 ? 1000 * c / hz / ok : 0) }')
    warnings=$(grep -c . "$tmp/$name.log" || true)
    if [[ "$kind" == sipline-* ]] && (( warnings > 0 )); then
      # sipline warns once that the in-memory registrar loses bindings on restart.
      grep -v registrar_in_memory "$tmp/$name.log" | tail -3 | sed 's/^/    sipline: /' || true
    fi
  done
  for kind in sipline-mem sipline-sqlite; do
    mine=${per_reg[$kind-$rate]:-} theirs=${per_reg[kamailio-$rate]:-}
    [[ -n "$mine" && -n "$theirs" ]] || continue
    awk -v n="$kind" -v r="$rate" -v s="$mine" -v k="$theirs" 'BEGIN {
      if (s > 0 && k > 0) printf "  %s / kamailio cpu per registration at %d/s = %.2f\n", n, r, s / k;
      else printf "  %s / kamailio at %d/s: not enough data\n", n, r }'
  done
done
