#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/compare.sh: the side-by-side sections of bench/run (issue 6), run as
# `bench/run --only limits|peers|scale` (or directly, after a build in
# build-bench/):
#   limits  Strata's physical limits on this machine: raw single-core
#           Ed25519 sign and verify (libsodium), durable LMDB commits opened
#           as storage/ opens them, ZeroMQ CURVE throughput on 127.0.0.1;
#   peers   the same workload for Strata, Hypercore and PouchDB, in one run:
#           write N ~200-byte records (one per entry, and batched), replicate
#           them to a second node on loopback, and (Strata) on through three
#           nodes street -> district -> city; entries/s, bytes on the wire,
#           peak RSS; ratios to the peers and fractions of the limits (the
#           limits are measured first, in the same run);
#   scale   catch-up time and memory of a new city for 10^4, 10^5, 10^6
#           one-op change sets.
# Every measurement appends one JSON line to build-bench/bench-compare/
# results.jsonl; bench/compare_report.py prints them as a table (or, with
# --json, one JSON object). Benchmarks print figures; they never assert.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: bench/compare.sh limits|peers|scale [--quick] [--json] [--n "N ..."]
                        [--single-n M] [--scale "N ..."] [--seconds S] [--port P] [--keep]

  --quick       small sizes: peers N = 10,000 (single writes 2,000), scale
                1,000 and 10,000, limits 0.5 s each: a couple of minutes
  --json        one JSON object on stdout instead of the table
  --n "N ..."   peers: record counts, run one after the other (default
                "100000 1000000")
  --single-n M  peers: records written one per entry (Strata one-op change
                sets, Hypercore single appends, PouchDB single puts); at most N
                (default min(N, 100000))
  --scale "..." scale: one-op change set counts (default "10000 100000 1000000")
  --seconds S   limits: seconds per sign/verify/LMDB run (default 2)
  --port P      first TCP port on 127.0.0.1 for the daemons (default 27600)
  --keep        keep build-bench/bench-compare/ afterwards
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-bench
MODE=${1:-}
case $MODE in
limits | peers | scale) shift ;;
-h | --help) usage; exit 0 ;;
*) usage >&2; exit 1 ;;
esac
QUICK=0 JSON=0 KEEP=0 PORT=27600 SECONDS_LIM=2
SIZES="100000 1000000" SINGLE_N="" SCALE="10000 100000 1000000"
n_set=0 scale_set=0 sec_set=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--json) JSON=1 ;;
	--keep) KEEP=1 ;;
	--n) SIZES=${2:?--n needs counts}; n_set=1; shift ;;
	--single-n) SINGLE_N=${2:?--single-n needs a count}; shift ;;
	--scale) SCALE=${2:?--scale needs counts}; scale_set=1; shift ;;
	--seconds) SECONDS_LIM=${2:?--seconds needs a number}; sec_set=1; shift ;;
	--port) PORT=${2:?--port needs a number}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench/compare.sh: unknown argument \"$1\"" >&2; exit 1 ;;
	esac
	shift
done
if [ "$QUICK" = 1 ]; then
	[ "$n_set" = 1 ] || SIZES=10000
	[ -n "$SINGLE_N" ] || SINGLE_N=2000
	[ "$scale_set" = 1 ] || SCALE="1000 10000"
	[ "$sec_set" = 1 ] || SECONDS_LIM=0.5
fi
for n in $SIZES $SCALE ${SINGLE_N:-1}; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench/compare.sh: \"$n\" is not a positive count" >&2; exit 1; }
done

log() { echo "bench: $*" >&2; }

cd "$ROOT"
if [ ! -d "$BUILD" ]; then
	log "meson setup build-bench --buildtype=release"
	meson setup "$BUILD" --buildtype=release >&2
fi
ninja -C "$BUILD" >&2
STRATA=$BUILD/node/strata
GEN=$BUILD/bench/strata-gen-members
WAITHEAD=$BUILD/bench/strata-wait-head
NOSYNC=$BUILD/bench/libstrata-nosync.so
B=$BUILD/bench
[ -x /usr/bin/time ] || { log "installing the Debian package time"; apt-get install -y time >&2; }

WORK=${COMPARE_WORK:-$BUILD/bench-compare} # several runs at once need their own
rm -rf "$WORK"
mkdir -p "$WORK"
RES=$WORK/results.jsonl
: >"$RES"

declare -A DAEMONS=()
stop_daemon() { # PID
	local pid=$1 i
	[ -n "${DAEMONS[$pid]+x}" ] || return 0
	unset "DAEMONS[$pid]"
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local pid
	for pid in "${!DAEMONS[@]}"; do stop_daemon "$pid"; done
	[ "$KEEP" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

load() { cut -d' ' -f1-3 /proc/loadavg; }
jstr() { printf '"%s"' "$(sed 's/\\/\\\\/g; s/"/\\"/g' <<<"$1")"; }
emit() { echo "$1" >>"$RES"; } # one JSON object per line

# /usr/bin/time around a command: T_WALL (s), T_RSS (peak RSS, KiB), T_CPU (s).
timed() {
	local t0 u s
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M %U %S' -o "$WORK/time.out" "$@" >"$WORK/last.out"
	T_WALL=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
	read -r T_RSS u s <"$WORK/time.out"
	T_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
}

CLK_TCK=$(getconf CLK_TCK)
cpu_of() { awk -v t="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat"; }
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; } # PID FIELD
port_busy() { ss -Htln 2>/dev/null | awk '{ print $4 }' | grep -q ":$1\$"; }
free_port() { local p=$1; while port_busy "$p"; do p=$((p + 1)); done; echo "$p"; }
# Payload bytes, both ways, of the established TCP connections to
# 127.0.0.1:PORT (seen from the connecting side: bytes_acked + bytes_received
# of `ss -ti`): what one link carried since it was made.
wire_bytes() { # PORT
	ss -Htin state established "( dport = :$1 )" 2>/dev/null |
		grep -o 'bytes_acked:[0-9]*\|bytes_received:[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }'
}
serve() { # DIR: starts `strata serve`, waits for "ready"; sets SERVE_PID
	local dir=$1 log=$1.log i
	"$STRATA" serve -d "$dir" 2>>"$log" &
	SERVE_PID=$!
	DAEMONS[$SERVE_PID]=$dir
	for i in $(seq 200); do
		[ "$(grep -c ': ready' "$log" 2>/dev/null)" -ge "${2:-1}" ] && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	log "strata serve -d $dir did not start:"
	cat "$log" >&2
	exit 4
}
serve_n() { # DIR: serve, counting the "ready" lines of earlier runs in the same log
	local dir=$1 k
	k=$(grep -c ': ready' "$dir.log" 2>/dev/null || true)
	serve "$dir" $((${k:-0} + 1))
}
node_key() { "$STRATA" id -d "$1" --json | sed -n 's/.*"key": *"\([0-9a-f]*\)".*/\1/p' | head -n1; }
up_head() { sed -n 's/.*(up head #\([0-9]*\)).*/\1/p' "$WORK/last.out"; }
set_ops() { # DIR OPS_PER_CHANGESET
	sed -i "s/^ops_per_changeset = [0-9]*\$/ops_per_changeset = $2/" "$1/strata.conf"
	grep -q "^ops_per_changeset = $2\$" "$1/strata.conf" || { log "cannot set ops_per_changeset = $2 in $1"; exit 4; }
}
setup_import() { # DIR CSV: member import under the nosync shim (setup, not measured)
	local t0=$EPOCHREALTIME
	LD_PRELOAD=$NOSYNC "$STRATA" member import -d "$1" "$2" >"$WORK/last.out"
	SETUP_S=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	IMPORTED_HEAD=$(up_head)
	[ -n "$IMPORTED_HEAD" ] || { log "member import into $1 failed:"; cat "$WORK/last.out" >&2; exit 4; }
}
# Catch-up: RECV_PID serves RECEIVER already; polls RECEIVER's store for
# SENDER's up head HEAD, starts the sender's daemon; sets CU_WALL (s, serve
# start -> head reached), CU_FIRST, CU_RECV_CPU, CU_SEND_CPU, CU_SEND_PID.
catch_up() { # SENDER_DIR RECEIVER_DIR HEAD TIMEOUT_S
	local sender=$1 receiver=$2 head=$3 key out t0 cpu_r0 first done_t wrc=0
	key=$(node_key "$sender")
	out=$WORK/wait.out
	"$WAITHEAD" --node "$receiver" --author "$key" --feed up --seq "$head" --interval-ms 1 \
		--timeout "$4" >"$out" &
	local wpid=$!
	DAEMONS[$wpid]=poller
	sleep 0.3
	cpu_r0=$(cpu_of "$RECV_PID")
	t0=$EPOCHREALTIME
	serve_n "$sender"
	CU_SEND_PID=$SERVE_PID
	wait "$wpid" || wrc=$?
	unset "DAEMONS[$wpid]"
	if [ "$wrc" != 0 ]; then
		log "$receiver did not catch up $head entries of $sender:"
		cat "$out" "$sender.log" "$receiver.log" >&2
		exit 4
	fi
	CU_RECV_CPU=$(awk -v a="$(cpu_of "$RECV_PID")" -v b="$cpu_r0" 'BEGIN { printf "%.2f", a - b }')
	CU_SEND_CPU=$(cpu_of "$CU_SEND_PID")
	read -r _ _ _ first _ done_t _ <"$out"
	CU_WALL=$(awk -v a="$t0" -v b="$done_t" 'BEGIN { printf "%.3f", b - a }')
	CU_FIRST=$(awk -v a="$t0" -v b="$first" 'BEGIN { printf "%.3f", b - a }')
}
store_bytes() { stat -c %s "$1/store/data.mdb"; }
# The sender's parent link from its `strata status --json`: the Entries
# frames it sent, packed (batch_bytes) and as sent (batch_wire_bytes, zstd),
# as two JSON members.
batch_bytes() { # DIR
	"$STRATA" status -d "$1" --json | python3 -c 'import json, sys
l = [l for l in json.load(sys.stdin)["daemon"]["links"] if l["kind"] == "parent"][0]
print("\"batch_bytes\": %d, \"batch_wire_bytes\": %d" % (l["batch_bytes"], l["batch_wire_bytes"]))'
}

# --- limits ----------------------------------------------------------------
# The frame sizes are Strata's: a one-op entry is ~300 bytes, a batch is at
# most 512 entries or 1 MiB (node/sync/sync_internal.h), so a batch of
# one-op entries is ~150 KB and one of 1,000-op change sets (~125 KB each)
# is ~1 MiB; the LMDB runs commit what one such batch commits.
run_limits() {
	local name j l0
	l0=$(load)
	log "limits: raw Ed25519 sign and verify, ${SECONDS_LIM} s each"
	j=$("$B/strata-raw-sign" --seconds "$SECONDS_LIM" --json)
	emit "{\"kind\": \"limit\", \"name\": \"sign\", \"load\": $(jstr "$(load)"), \"r\": $j}"
	j=$("$B/strata-raw-verify" --seconds "$SECONDS_LIM" --json)
	emit "{\"kind\": \"limit\", \"name\": \"verify\", \"load\": $(jstr "$(load)"), \"r\": $j}"
	for spec in "lmdb_1x300 1 300" "lmdb_512x300 512 300" "lmdb_8x125000 8 125000"; do
		read -r name k b <<<"$spec"
		log "limits: LMDB durable commits of $k x $b bytes, ${SECONDS_LIM} s"
		rm -rf "$WORK/$name"
		j=$("$B/strata-lmdb-commit" --dir "$WORK/$name" --per-txn "$k" --bytes "$b" --seconds "$SECONDS_LIM" --json)
		rm -rf "$WORK/$name"
		emit "{\"kind\": \"limit\", \"name\": \"$name\", \"load\": $(jstr "$(load)"), \"r\": $j}"
	done
	local mb=200
	[ "$QUICK" = 0 ] || mb=50
	for spec in "zmq_300 300 $((mb / 4))" "zmq_153600 153600 $mb" "zmq_1048576 1048576 $mb"; do
		read -r name b m <<<"$spec"
		log "limits: ZeroMQ CURVE, $m MB in $b-byte messages"
		j=$("$B/strata-zmq-curve" --bytes "$b" --mb "$m" --json)
		emit "{\"kind\": \"limit\", \"name\": \"$name\", \"load\": $(jstr "$(load)"), \"r\": $j}"
	done
	j=$("$B/strata-zmq-curve" --bytes 1048576 --mb "$mb" --plain --json)
	emit "{\"kind\": \"limit\", \"name\": \"zmq_1048576_plain\", \"load\": $(jstr "$(load)"), \"r\": $j}"
	log "limits done (load $l0 -> $(load))"
}

# --- peers -----------------------------------------------------------------
peers_install() {
	local P=$ROOT/bench/peers
	if [ ! -d "$P/node_modules" ] || [ "$P/package-lock.json" -nt "$P/node_modules/.package-lock.json" ]; then
		command -v npm >/dev/null || { log "npm is needed for the peers (Node.js 20)"; exit 4; }
		log "npm ci in bench/peers (hypercore, pouchdb-node, express, express-pouchdb; exact versions)"
		(cd "$P" && npm ci --no-audit --no-fund >&2)
	fi
}

# The Strata side for N records. Topology, every link CURVE on 127.0.0.1:
#   city (root, listens) <- district (listens) <- sA (ops_per_changeset = 1)
#                                              <- sB (ops_per_changeset = 1000)
# Writes are timed durable imports (no shim). "second node": sA, then sB,
# catch up into the district alone. "three nodes": a copy of the district as
# it was before (certificates only) and the city serve; sA, then sB, serve;
# timed until the city has the street's head, through the district.
strata_peers() { # N SINGLE_N
	local n=$1 ns=$2 R=$WORK/strata-$1 pc pd key
	mkdir -p "$R"
	pc=$(free_port "$PORT")
	pd=$(free_port $((pc + 1)))
	log "strata, N=$n: setting up city (:$pc), district (:$pd), streets sA (one-op) and sB (batched)"
	"$STRATA" init -d "$R/city" --name xiamen --root --listen "tcp://127.0.0.1:$pc" >/dev/null
	"$STRATA" init -d "$R/district" --name xiamen/d1 --listen "tcp://127.0.0.1:$pd" >/dev/null
	"$STRATA" init -d "$R/sA" --name xiamen/d1/sa >/dev/null
	"$STRATA" init -d "$R/sB" --name xiamen/d1/sb >/dev/null
	set_ops "$R/sA" 1
	set_ops "$R/sB" 1000
	# every link here is on 127.0.0.1, where [sync] compress = auto sends
	# batches as they are: ask for zstd, as between hosts
	for d in city district sA sB; do printf '\n[sync]\ncompress = zstd\n' >>"$R/$d/strata.conf"; done
	serve "$R/city"
	local city_pid=$SERVE_PID
	"$STRATA" invite -d "$R/city" --name xiamen/d1 --expires 1h | "$STRATA" join -d "$R/district" >/dev/null
	serve "$R/district"
	local dist_pid=$SERVE_PID
	for s in sA sB; do
		"$STRATA" invite -d "$R/district" --name "xiamen/d1/${s,,}" --expires 1h | "$STRATA" join -d "$R/$s" >/dev/null
	done
	stop_daemon "$dist_pid"
	stop_daemon "$city_pid"
	cp -a "$R/district" "$R/district2"
	cp -a "$R/city" "$R/city2"
	rm -f "$R/district2.log" "$R/city2.log"

	# writes: one member per change set (ns of them), and 1,000 per change set
	# (n): the peers' 200-byte records (bench/peers/common.js), as member rows
	node "$ROOT/bench/peers/strata_csv.js" --count "$ns" >"$WORK/a.csv"
	node "$ROOT/bench/peers/strata_csv.js" --count "$n" >"$WORK/b.csv"
	local l0
	l0=$(load)
	log "strata, N=$n: member import of $ns members as one-op change sets (durable)"
	timed "$STRATA" member import -d "$R/sA" "$WORK/a.csv"
	local ha
	ha=$(up_head)
	[ -n "$ha" ] || { log "import into sA failed:"; cat "$WORK/last.out" >&2; exit 4; }
	emit "{\"kind\": \"strata\", \"n\": $n, \"name\": \"write_single\", \"records\": $ns, \"head\": $ha, \"wall_s\": $T_WALL, \"cpu_s\": $T_CPU, \"peak_rss_kib\": $T_RSS, \"store_bytes\": $(store_bytes "$R/sA"), \"load\": $(jstr "$l0 -> $(load)")}"
	l0=$(load)
	log "strata, N=$n: member import of $n members as 1,000-op change sets (durable)"
	timed "$STRATA" member import -d "$R/sB" "$WORK/b.csv"
	local hb
	hb=$(up_head)
	[ -n "$hb" ] || { log "import into sB failed:"; cat "$WORK/last.out" >&2; exit 4; }
	emit "{\"kind\": \"strata\", \"n\": $n, \"name\": \"write_batched\", \"records\": $n, \"head\": $hb, \"wall_s\": $T_WALL, \"cpu_s\": $T_CPU, \"peak_rss_kib\": $T_RSS, \"store_bytes\": $(store_bytes "$R/sB"), \"load\": $(jstr "$l0 -> $(load)")}"

	# second node: street -> district, each catch-up in a fresh district daemon
	local s h recs
	for s in sA sB; do
		h=$ha recs=$ns
		[ "$s" = sA ] || { h=$hb; recs=$n; }
		serve_n "$R/district"
		RECV_PID=$SERVE_PID
		l0=$(load)
		log "strata, N=$n: $s -> district, $h change sets"
		catch_up "$R/$s" "$R/district" "$h" 1800
		local w
		w=$(wire_bytes "$pd")
		emit "{\"kind\": \"strata\", \"n\": $n, \"name\": \"replicate_$s\", \"records\": $recs, \"head\": $h, \"wall_s\": $CU_WALL, \"first_s\": $CU_FIRST, \"receiver_cpu_s\": $CU_RECV_CPU, \"sender_cpu_s\": $CU_SEND_CPU, \"receiver_peak_rss_kib\": $(status_kib "$RECV_PID" VmHWM), \"receiver_rss_anon_kib\": $(status_kib "$RECV_PID" RssAnon), \"sender_peak_rss_kib\": $(status_kib "$CU_SEND_PID" VmHWM), \"wire_bytes\": $w, $(batch_bytes "$R/$s"), \"load\": $(jstr "$l0 -> $(load)")}"
		stop_daemon "$CU_SEND_PID"
		stop_daemon "$RECV_PID"
	done
	# The limit of that catch-up's storing: LMDB alone writing exactly what
	# the sender's store holds (log, state, heads), in durable 1 MiB commits.
	# The fastest of three runs: a ceiling.
	local best="" r j
	for r in 1 2 3; do
		rm -rf "$WORK/replay"
		j=$("$B/strata-lmdb-replay" --from "$R/sB/store" --dir "$WORK/replay" --json)
		best=$(python3 -c 'import json, sys
a, b = sys.argv[1], sys.argv[2]
print(b if not a or json.loads(b)["seconds"] < json.loads(a)["seconds"] else a)' "$best" "$j")
	done
	rm -rf "$WORK/replay"
	emit "{\"kind\": \"strata\", \"n\": $n, \"name\": \"lmdb_replay_sB\", \"load\": $(jstr "$(load)"), \"r\": $best}"

	# three nodes: street -> district2 -> city2 (the copies: no entries yet)
	for s in sA sB; do
		h=$ha recs=$ns
		[ "$s" = sB ] && { h=$hb; recs=$n; }
		serve_n "$R/city2"
		local c2=$SERVE_PID
		serve_n "$R/district2"
		local d2=$SERVE_PID
		RECV_PID=$c2
		# the district's link to the city is up before the street starts
		for i in $(seq 100); do
			[ "$(wire_bytes "$pc")" -gt 0 ] && break
			sleep 0.05
		done
		sleep 0.3
		local wc0 dcpu0
		wc0=$(wire_bytes "$pc")
		dcpu0=$(cpu_of "$d2")
		l0=$(load)
		log "strata, N=$n: $s -> district -> city, $h change sets"
		# the street's daemon uses the district's address from its own config
		catch_up "$R/$s" "$R/city2" "$h" 1800
		emit "{\"kind\": \"strata\", \"n\": $n, \"name\": \"three_nodes_$s\", \"records\": $recs, \"head\": $h, \"wall_s\": $CU_WALL, \"first_s\": $CU_FIRST, \"city_cpu_s\": $CU_RECV_CPU, \"district_cpu_s\": $(awk -v a="$(cpu_of "$d2")" -v b="$dcpu0" 'BEGIN { printf "%.2f", a - b }'), \"sender_cpu_s\": $CU_SEND_CPU, \"city_peak_rss_kib\": $(status_kib "$c2" VmHWM), \"district_peak_rss_kib\": $(status_kib "$d2" VmHWM), \"wire_bytes_street_district\": $(wire_bytes "$pd"), \"wire_bytes_district_city\": $(($(wire_bytes "$pc") - wc0)), \"load\": $(jstr "$l0 -> $(load)")}"
		stop_daemon "$CU_SEND_PID"
		stop_daemon "$d2"
		stop_daemon "$c2"
	done
	[ "$KEEP" = 1 ] || rm -rf "$R"
}

run_peers() {
	peers_install
	local n ns l0 j
	for n in $SIZES; do
		ns=${SINGLE_N:-100000}
		[ "$ns" -le "$n" ] || ns=$n
		strata_peers "$n" "$ns"
		for p in hypercore pouchdb; do
			l0=$(load)
			log "$p, N=$n ($ns written one per entry)"
			rm -rf "$WORK/$p"
			/usr/bin/time -f '%M' -o "$WORK/time.out" node "$ROOT/bench/peers/$p.js" --n "$n" --single-n "$ns" \
				--dir "$WORK/$p" >"$WORK/$p.out" || { log "$p.js failed"; cat "$WORK/$p.out" >&2; exit 4; }
			j=$(tail -n 1 "$WORK/$p.out")
			emit "{\"kind\": \"peer\", \"n\": $n, \"name\": \"$p\", \"load\": $(jstr "$l0 -> $(load)"), \"r\": $j}"
			rm -rf "$WORK/$p"
		done
	done
}

# --- scale -----------------------------------------------------------------
# One street (one-op change sets) under the city. For each size, the street
# grows to that many change sets (setup, no fsync), then a copy of the city
# with none of them serves and the street serves: catch-up time and the
# city's memory.
run_scale() {
	local R=$WORK/scale pc k extra head=0 l0 n
	mkdir -p "$R"
	pc=$(free_port "$PORT")
	"$STRATA" init -d "$R/city" --name xiamen --root --listen "tcp://127.0.0.1:$pc" >/dev/null
	"$STRATA" init -d "$R/s" --name xiamen/s >/dev/null
	set_ops "$R/s" 1
	serve "$R/city"
	local city_pid=$SERVE_PID
	"$STRATA" invite -d "$R/city" --name xiamen/s --expires 1h | "$STRATA" join -d "$R/s" >/dev/null
	stop_daemon "$city_pid"
	local have=0 seed=31
	for n in $SCALE; do
		extra=$((n - have))
		if [ "$extra" -gt 0 ]; then
			log "scale: the street grows by $extra one-op change sets to $n (setup, no fsync)"
			"$GEN" --count "$extra" --seed $seed --prefix "S$seed" >"$WORK/s.csv"
			seed=$((seed + 1))
			setup_import "$R/s" "$WORK/s.csv"
			head=$IMPORTED_HEAD
			have=$n
		fi
		rm -rf "$R/c"
		cp -a "$R/city" "$R/c"
		rm -f "$R/c.log"
		serve "$R/c"
		RECV_PID=$SERVE_PID
		l0=$(load)
		log "scale: a new city catches up $head change sets"
		catch_up "$R/s" "$R/c" "$head" 3600
		emit "{\"kind\": \"scale\", \"changesets\": $n, \"head\": $head, \"wall_s\": $CU_WALL, \"first_s\": $CU_FIRST, \"receiver_cpu_s\": $CU_RECV_CPU, \"sender_cpu_s\": $CU_SEND_CPU, \"receiver_peak_rss_kib\": $(status_kib "$RECV_PID" VmHWM), \"receiver_rss_anon_kib\": $(status_kib "$RECV_PID" RssAnon), \"receiver_rss_file_kib\": $(status_kib "$RECV_PID" RssFile), \"sender_peak_rss_kib\": $(status_kib "$CU_SEND_PID" VmHWM), \"wire_bytes\": $(wire_bytes "$pc"), \"receiver_store_bytes\": $(store_bytes "$R/c"), \"setup_s_no_fsync\": ${SETUP_S:-0}, \"load\": $(jstr "$l0 -> $(load)")}"
		stop_daemon "$CU_SEND_PID"
		stop_daemon "$RECV_PID"
		SETUP_S=0
	done
	rm -rf "$R/c"
}

# --- run -----------------------------------------------------------------
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] || COMMIT="$COMMIT+dirty"
emit "{\"kind\": \"machine\", \"mode\": \"$MODE\", \"quick\": $([ "$QUICK" = 1 ] && echo true || echo false), \"date\": $(jstr "$(date -u '+%Y-%m-%d %H:%M UTC')"), \"nproc\": $(nproc), \"cpu\": $(jstr "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"), \"kernel\": $(jstr "$(uname -sr)"), \"libsodium\": $(jstr "$(pkg-config --modversion libsodium 2>/dev/null || echo unknown)"), \"lmdb\": $(jstr "$(pkg-config --modversion lmdb 2>/dev/null || echo unknown)"), \"libzmq\": $(jstr "$(pkg-config --modversion libzmq 2>/dev/null || echo unknown)"), \"node\": $(jstr "$(node --version 2>/dev/null || echo none)"), \"commit\": $(jstr "$COMMIT"), \"load_start\": $(jstr "$(load)")}"
case $MODE in
limits) run_limits ;;
peers) run_limits; run_peers ;;
scale) run_scale ;;
esac
emit "{\"kind\": \"end\", \"load_end\": $(jstr "$(load)")}"
python3 "$ROOT/bench/compare_report.py" $([ "$JSON" = 1 ] && echo --json) "$RES"
