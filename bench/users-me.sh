#!/usr/bin/env bash
# users-me.sh: load test of GET /users/me over loopback with wrk.
#
# Builds gatehouse and bench/bare (a net/http handler writing a fixed JSON
# user object, checking nothing), then drives each in turn, never two at once,
# with the same wrk settings and a bearer token of the same size (the bare
# server ignores it):
#
#   bare (before)  the baseline, first measure
#   HS256          gatehouse with GATEHOUSE_SECRET_KEY set (random, 32 bytes)
#   default        gatehouse with no secret: development mode generates one in
#                  its data directory and signs with the default algorithm
#                  (the script reads the algorithm from the token, not from
#                  any assumption)
#   bare (after)   the baseline, second measure
#
# and prints each case's requests per second as a ratio of the mean of the
# two bare runs, beside the CPU each process used, so that a run disturbed by
# other work on the machine shows as such. A client sends the same token for
# many requests, so one login's token is used for the whole run. Any non-2xx
# answer or socket error fails the script. Run from anywhere:
#
#   bench/users-me.sh
#   DURATION=30 CONNECTIONS=64 bench/users-me.sh
#
# Settings (environment):
#   DURATION     seconds of each measured wrk run            (10)
#   WARMUP       seconds of wrk before each measured run     (3)
#   THREADS      wrk threads                                 (2)
#   CONNECTIONS  wrk connections                             (32)
#   PIN          "auto": on 2 or more cores, pin the server to the first
#                half of the CPUs and wrk to the rest with taskset (0:1 on 2
#                cores); "S:W": the server on CPU list S, wrk on W; "off": let
#                the kernel share every core between the two      (auto)
#   TARGET       the ratio each gatehouse case should reach  (0.6)
#   REF          build gatehouse from this git revision (git archive into the
#                temporary directory) instead of the working tree, e.g. HEAD
#                while the tree is mid-edit, or to compare two commits  (unset)
#
# Needs bash, go, curl and wrk; installs wrk (and curl) with apt-get when
# missing. Listens only on 127.0.0.1, keeps everything in a temporary
# directory, and stops what it started on exit.
set -euo pipefail

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
PIN=${PIN:-auto}
TARGET=${TARGET:-0.6}
REF=${REF:-}

# The registered user: the password passes the default policy (length 8,
# zxcvbn score 2).
BENCH_USER=bench
BENCH_EMAIL=bench@example.com
BENCH_PASSWORD='correct horse battery staple'

die() {
	printf 'users-me.sh: %s\n' "$*" >&2
	exit 1
}
note() { printf '%s\n' "$*" >&2; }

for v in DURATION WARMUP THREADS CONNECTIONS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive whole number, got '${!v}'"
done
[[ $TARGET =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "TARGET must be a number, got '$TARGET'"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
server_pid=
wrk_pid=

cleanup() {
	local pid
	for pid in "$wrk_pid" "$server_pid"; do
		if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools -------------------------------------------------------------------

command -v go >/dev/null || die "go is not installed"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
	command -v apt-get >/dev/null || die "${missing[*]} not installed and apt-get is not available"
	note "installing ${missing[*]} from Debian packages (apt-get)..."
	sudo=()
	((EUID == 0)) || sudo=(sudo)
	timeout 300 "${sudo[@]}" apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive timeout 300 "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
	for tool in "${missing[@]}"; do
		command -v "$tool" >/dev/null || die "installing $tool failed"
	done
fi

pin_server=()
pin_wrk=()
# Why pin: on a small machine wrk and the server compete for the same cores.
# Unpinned, the bare server is held back by that contention (and by wake-ups
# bouncing between cores) while the busier gatehouse soaks up the idle left
# over, which pulls the ratio towards 1. Each on its own cores, the server is
# the bottleneck in both cases and the ratio is that of their costs per request.
if [[ $PIN == auto ]]; then
	PIN=off
	# The CPUs this process may use (a container's cpuset need not start at 0).
	cpus=()
	list=$(awk '/^Cpus_allowed_list:/ {print $2}' /proc/self/status 2>/dev/null || true)
	for part in ${list//,/ }; do
		if [[ $part == *-* ]]; then
			mapfile -t -O "${#cpus[@]}" cpus < <(seq "${part%-*}" "${part#*-}")
		else
			cpus+=("$part")
		fi
	done
	if ((${#cpus[@]} >= 2)) && command -v taskset >/dev/null; then
		half=$((${#cpus[@]} / 2))
		server_cpus=$(IFS=,; echo "${cpus[*]:0:half}")
		wrk_cpus=$(IFS=,; echo "${cpus[*]:half}")
		PIN=$server_cpus:$wrk_cpus
	fi
fi
if [[ $PIN != off ]]; then
	[[ $PIN =~ ^([0-9,-]+):([0-9,-]+)$ ]] || die "PIN must be off, auto or SERVER_CPUS:WRK_CPUS, got '$PIN'"
	command -v taskset >/dev/null || die "PIN needs taskset (util-linux)"
	pin_server=(taskset -c "${BASH_REMATCH[1]}")
	pin_wrk=(taskset -c "${BASH_REMATCH[2]}")
fi

# bench/bare always comes from the working tree: it is the standard library
# alone, the same in every revision.
src=$root
source_note="working tree"
if [[ -n $REF ]]; then
	command -v git >/dev/null || die "REF needs git"
	commit=$(git -C "$root" rev-parse --verify --short "$REF^{commit}") || die "REF: no commit '$REF'"
	mkdir "$tmp/src"
	git -C "$root" archive --format=tar "$commit" | tar -x -C "$tmp/src" || die "REF: could not extract $commit"
	src=$tmp/src
	source_note="commit $commit"
elif command -v git >/dev/null && commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null); then
	source_note="working tree at $commit"
	[[ -z $(git -C "$root" status --porcelain -- . ':!bench' 2>/dev/null) ]] || source_note+=" with local changes"
fi
note "building gatehouse ($source_note) and bench/bare into $tmp..."
(cd "$src" && timeout 600 go build -o "$tmp/gatehouse" ./cmd/gatehouse) || die "go build of gatehouse failed ($source_note)"
(cd "$root" && timeout 600 go build -o "$tmp/bare" ./bench/bare) || die "go build of bench/bare failed"

# --- servers -----------------------------------------------------------------

# free_port prints a loopback port nothing listens on. Another process could
# take it before the server binds; then the server exits and wait_ready says so.
free_port() {
	local port _
	for _ in {1..100}; do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	die "found no free port on 127.0.0.1"
}

# wait_ready URL LOG: polls URL until it answers 2xx (at most 20 s), failing
# as soon as the server exits.
wait_ready() {
	local url=$1 log=$2 _
	for _ in {1..100}; do
		kill -0 "$server_pid" 2>/dev/null || die "the server exited before it was ready; its log:
$(tail -n 20 "$log")"
		if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
			return
		fi
		sleep 0.2
	done
	die "the server did not answer $url within 20 s; its log:
$(tail -n 20 "$log")"
}

stop_server() {
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

# start_gatehouse CASE PORT: a fresh data directory, the caller's GATEHOUSE_*
# and SECRET_KEY variables removed so they cannot change a case, then the
# case's own. The secret goes through the environment, never a command line.
start_gatehouse() {
	local case=$1 port=$2 data=$tmp/data-$1 secret=
	mkdir -p "$data"
	if [[ $case == HS256 ]]; then
		secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	fi
	(
		for v in $(compgen -e); do
			case $v in GATEHOUSE_* | SECRET_KEY) unset "$v" ;; esac
		done
		export GATEHOUSE_ENV=development
		export GATEHOUSE_ADDR=127.0.0.1:$port
		export GATEHOUSE_DATA_DIR=$data
		export GATEHOUSE_LOG_LEVEL=warn
		if [[ -n $secret ]]; then export GATEHOUSE_SECRET_KEY=$secret; fi
		exec "${pin_server[@]}" "$tmp/gatehouse" serve
	) >"$tmp/server-$case.log" 2>&1 &
	server_pid=$!
	wait_ready "http://127.0.0.1:$port/readyz" "$tmp/server-$case.log"
}

start_bare() {
	local name=$1 port=$2
	"${pin_server[@]}" "$tmp/bare" -addr "127.0.0.1:$port" >"$tmp/server-$name.log" 2>&1 &
	server_pid=$!
	wait_ready "http://127.0.0.1:$port/users/me" "$tmp/server-$name.log"
}

# login BASE: registers the bench user, logs in with the OAuth2 form and
# prints the access token.
login() {
	local base=$1 status token
	status=$(curl -sS --max-time 10 -o "$tmp/register.json" -w '%{http_code}' \
		-H 'Content-Type: application/json' \
		--data "{\"username\":\"$BENCH_USER\",\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}" \
		"$base/auth/register")
	[[ $status == 201 ]] || die "register answered $status: $(cat "$tmp/register.json")"
	status=$(curl -sS --max-time 10 -o "$tmp/login.json" -w '%{http_code}' \
		--data-urlencode "username=$BENCH_USER" --data-urlencode "password=$BENCH_PASSWORD" \
		"$base/auth/login")
	[[ $status == 200 ]] || die "login answered $status: $(cat "$tmp/login.json")"
	token=$(sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$tmp/login.json")
	[[ $token =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] ||
		die "no JWT access_token in the login answer: $(cat "$tmp/login.json")"
	printf '%s' "$token"
}

# token_alg TOKEN: the "alg" of the token's header (base64url JSON).
token_alg() {
	local h=${1%%.*}
	h=$(printf '%s' "$h" | tr '_-' '/+')
	while ((${#h} % 4)); do h+='='; done
	printf '%s' "$h" | base64 -d 2>/dev/null |
		sed -n 's/.*"alg"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p'
}

# check_users_me URL [TOKEN]: one request by curl, which must answer 200 with
# the bench user, before wrk starts.
check_users_me() {
	local url=$1 token=${2:-} status auth=()
	[[ -z $token ]] || auth=(-H "Authorization: Bearer $token")
	status=$(curl -sS --max-time 10 -o "$tmp/me.json" -w '%{http_code}' "${auth[@]}" "$url")
	[[ $status == 200 ]] || die "GET $url answered $status: $(cat "$tmp/me.json")"
	grep -q "\"username\":\"$BENCH_USER\"" "$tmp/me.json" || die "GET $url answered $(cat "$tmp/me.json")"
}

# --- wrk ---------------------------------------------------------------------

# wrk_run OUT SECONDS URL [TOKEN]: one wrk run in the background (so a signal
# reaches the trap at once), bounded by timeout; fails on any non-2xx answer
# or socket error.
wrk_run() {
	local out=$1 seconds=$2 url=$3 token=${4:-} args
	args=(-t "$THREADS" -c "$CONNECTIONS" -d "${seconds}s" --timeout 5s --latency)
	[[ -z $token ]] || args+=(-H "Authorization: Bearer $token")
	timeout $((seconds + 30)) "${pin_wrk[@]}" wrk "${args[@]}" "$url" >"$out" 2>&1 &
	wrk_pid=$!
	if ! wait "$wrk_pid"; then
		wrk_pid=
		die "wrk failed against $url:
$(cat "$out")"
	fi
	wrk_pid=
	if grep -q 'Non-2xx or 3xx responses' "$out"; then
		die "NON-2xx ANSWERS from $url: the figures are not of /users/me succeeding:
$(cat "$out")"
	fi
	if grep -q 'Socket errors' "$out"; then
		die "socket errors against $url:
$(cat "$out")"
	fi
	grep -q '^Requests/sec:' "$out" || die "no Requests/sec in wrk's output:
$(cat "$out")"
}

# to_ms VALUE: wrk's latency ("812.00us", "1.20ms", "1.01s") in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000
		else if (v ~ /ms$/) n += 0
		else if (v ~ /m$/) n *= 60000
		else if (v ~ /s$/) n *= 1000
		printf "%.2f", n
	}'
}

# CPU accounting, to tell a slow server from a starved one. All in seconds.
hz=$(getconf CLK_TCK)
# proc_cpu PID: CPU time the process has used (user + system).
proc_cpu() { sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$hz" '{ printf "%.2f", ($12 + $13) / hz }'; }
# machine_cpu: CPU time every process on the machine has used.
machine_cpu() { awk -v hz="$hz" '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat; }
# children_cpu VAR: sets VAR to the CPU time of this shell's finished
# children (wrk among them). The builtin must run in this shell: in a
# subshell, $(...) included, it would see only that subshell's children.
children_cpu() {
	times >"$tmp/times"
	printf -v "$1" '%s' "$(awk 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] }
		printf "%.2f", t
	}' "$tmp/times")"
}

# Results, by case name: requests per second, latency percentiles (ms), the
# token's algorithm, CPU use during the measured run as a share of one core
# (the server, wrk, everything else on the machine) and the server's CPU time
# per request (µs).
declare -A rps p50 p99 alg cpu_server cpu_wrk cpu_other us_per_req
cases=()

# measure NAME URL [TOKEN]: warm up, then the measured run.
measure() {
	local name=$1 url=$2 token=${3:-} out=$tmp/wrk-$1.txt
	local t0 t1 s0 s1 w0 w1 m0 m1 requests
	note "  $name: warm-up ${WARMUP}s, then ${DURATION}s (wrk -t$THREADS -c$CONNECTIONS)"
	wrk_run "$tmp/warmup-$name.txt" "$WARMUP" "$url" "$token"
	children_cpu w0
	t0=$EPOCHREALTIME s0=$(proc_cpu "$server_pid") m0=$(machine_cpu)
	wrk_run "$out" "$DURATION" "$url" "$token"
	t1=$EPOCHREALTIME s1=$(proc_cpu "$server_pid") m1=$(machine_cpu)
	children_cpu w1
	rps[$name]=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	p50[$name]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
	p99[$name]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
	requests=$(awk '/ requests in / {print $1}' "$out")
	read -r "cpu_server[$name]" "cpu_wrk[$name]" "cpu_other[$name]" "us_per_req[$name]" < <(
		awk -v t0="$t0" -v t1="$t1" -v s="$s0 $s1" -v w="$w0 $w1" -v m="$m0 $m1" -v n="$requests" 'BEGIN {
			split(s, S, " "); split(w, W, " "); split(m, M, " ")
			wall = t1 - t0; sv = S[2] - S[1]; wk = W[2] - W[1]; other = M[2] - M[1] - sv - wk
			if (other < 0) other = 0
			printf "%.0f %.0f %.0f %.1f\n", sv / wall * 100, wk / wall * 100, other / wall * 100, sv / n * 1e6
		}')
	cases+=("$name")
}

# bare_token is what the bare runs send: it checks nothing, but its requests
# carry an Authorization header of a real token's size, so that wrk sends
# the same bytes to both servers.
bare_token="$(printf 'x%.0s' {1..36}).$(printf 'y%.0s' {1..300}).$(printf 'z%.0s' {1..86})"

run_bare() {
	local name=$1 port
	port=$(free_port)
	start_bare "$name" "$port"
	check_users_me "http://127.0.0.1:$port/users/me" "$bare_token"
	alg[$name]=-
	measure "$name" "http://127.0.0.1:$port/users/me" "$bare_token"
	stop_server
}

run_gatehouse() {
	local name=$1 port token
	port=$(free_port)
	start_gatehouse "$name" "$port"
	token=$(login "http://127.0.0.1:$port")
	alg[$name]=$(token_alg "$token")
	check_users_me "http://127.0.0.1:$port/users/me" "$token"
	measure "$name" "http://127.0.0.1:$port/users/me" "$token"
	stop_server
}

pin_note=off
[[ $PIN == off ]] || pin_note="server on CPU ${PIN%%:*}, wrk on CPU ${PIN##*:}"
note "driving each server in turn over 127.0.0.1 (pinning: $pin_note)"
run_bare "bare-before"
run_gatehouse "HS256"
run_gatehouse "default"
run_bare "bare-after"

# --- report ------------------------------------------------------------------

# The baseline is the mean of the two bare runs, for rps and for the server's
# CPU per request alike.
mean() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a + b) / 2 }'; }
baseline=$(mean "${rps[bare-before]}" "${rps[bare-after]}")
baseline_us=$(mean "${us_per_req[bare-before]}" "${us_per_req[bare-after]}")
drift=$(awk -v a="${rps[bare-before]}" -v b="${rps[bare-after]}" -v m="$baseline" \
	'BEGIN { printf "%+.1f", (b - a) / m * 100 }')

echo
echo "GET /users/me over loopback, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, gatehouse from the $source_note"
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s after ${WARMUP}s warm-up, one server at a time; pinning: $pin_note"
echo
printf '%-12s %-6s %8s %7s %7s | %6s %5s %5s %8s | %6s %6s  %s\n' \
	case alg rps p50ms p99ms server wrk other "cpu/req" ratio cpu "target >= $TARGET"
missed=0
for name in "${cases[@]}"; do
	ratio=$(awk -v r="${rps[$name]}" -v b="$baseline" 'BEGIN { printf "%.2f", r / b }')
	cpu_ratio=$(awk -v u="${us_per_req[$name]}" -v b="$baseline_us" 'BEGIN { printf "%.2f", b / u }')
	verdict=
	if [[ $name != bare-* ]]; then
		if awk -v r="$ratio" -v t="$TARGET" 'BEGIN { exit !(r >= t) }'; then
			verdict=met
		else
			verdict=MISSED
			missed=$((missed + 1))
		fi
	fi
	printf '%-12s %-6s %8.0f %7s %7s | %5s%% %4s%% %4s%% %6sus | %6s %6s  %s\n' "$name" "${alg[$name]}" \
		"${rps[$name]}" "${p50[$name]}" "${p99[$name]}" \
		"${cpu_server[$name]}" "${cpu_wrk[$name]}" "${cpu_other[$name]}" "${us_per_req[$name]}" \
		"$ratio" "$cpu_ratio" "$verdict"
done
echo
echo "ratio:   rps / baseline rps, the figure the target is about. The baseline is the mean of"
echo "         bare-before (${rps[bare-before]} rps) and bare-after (${rps[bare-after]} rps) = $baseline rps; they differ by ${drift}%."
echo "cpu:     the bare server's CPU time per request (mean, ${baseline_us} us) / this server's; it moves"
echo "         less than rps when other work takes CPU from the server."
echo "server, wrk, other: CPU used during the measured run, in % of one core; 'other' is every"
echo "         other process on the machine. High 'other' means that run's rps is not to be trusted."
if awk -v d="$drift" 'BEGIN { exit !(d > 10 || d < -10) }'; then
	echo "warning: the two bare runs differ by more than 10%: the machine was busy; run again before trusting the ratios"
fi
if ((missed)); then
	echo "$missed case(s) below the $TARGET target"
fi
