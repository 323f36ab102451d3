#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/backup.sh: backup and restore of a branch holding a city's registry
# (issue 11). A city and one branch, the branch with N members (default
# 209,000, Xiamen's registry) imported and replicated to the city; then:
#   - `strata backup` of the branch's live store while both daemons run
#     (R runs, median wall time) and the backup's size beside data.mdb's;
#   - one more member written after the backup (it reaches the city);
#   - the branch stopped and `strata restore` timed;
#   - the time from starting `strata serve` on the restored branch to the
#     first write the fence allows (`strata member add`, which waits for the
#     daemon to fetch the branch's own newer entry from the city), and the
#     seq that write got (it must continue the feed, not reuse a seq).
# Benchmarks print figures; they never assert. Docs: docs/PERFORMANCE.md.
set -euo pipefail

usage() {
	cat <<'EOF2'
usage: bench/backup.sh [--quick] [--members N] [--runs R] [--port P] [--build DIR] [--keep]

  --quick        20,000 members, 3 runs
  --members N    members of the branch (default 209000)
  --runs R       timed backups (default 5; the median is shown)
  --port P       first TCP port on 127.0.0.1 for the city (default 27900)
  --build DIR    use this build directory (default build-bench, release)
  --keep         keep the nodes in DIR/backup-work afterwards

Progress goes to stderr, the figures to stdout.
EOF2
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-bench MEMBERS=209000 RUNS=5 PORT=27900 KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) MEMBERS=20000; RUNS=3 ;;
	--members) MEMBERS=${2:?--members needs a number}; shift ;;
	--runs) RUNS=${2:?--runs needs a number}; shift ;;
	--port) PORT=${2:?--port needs a number}; shift ;;
	--build) BUILD=$(cd "${2:?--build needs a directory}" && pwd); shift ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench/backup.sh: unknown argument \"$1\" (see --help)" >&2; exit 1 ;;
	esac
	shift
done
for n in "$MEMBERS" "$RUNS" "$PORT"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench/backup.sh: \"$n\" is not a positive number" >&2; exit 1; }
done

log() { echo "bench: $*" >&2; }
cd "$ROOT"
if [ ! -d "$BUILD" ]; then
	log "meson setup $BUILD --buildtype=release"
	meson setup "$BUILD" --buildtype=release >&2
fi
ninja -C "$BUILD" >&2
STRATA=$BUILD/node/strata
GEN=$BUILD/bench/strata-gen-members
WAIT=$BUILD/bench/strata-wait-head
NOSYNC=$BUILD/bench/libstrata-nosync.so
WORK=$BUILD/backup-work
rm -rf "$WORK"
mkdir -p "$WORK"

declare -A DAEMONS=()
stop_daemon() { # PID
	local pid=$1 i
	[ -n "${DAEMONS[$pid]+x}" ] || return 0
	unset "DAEMONS[$pid]"
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	for i in $(seq 100); do
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

serve() { # DIR [PRELOAD]: starts `strata serve`, waits for "ready"; sets SERVE_PID
	local dir=$1 pre=${2:-} off i
	off=$(stat -c %s "$dir.log" 2>/dev/null || echo 0)
	LD_PRELOAD=$pre "$STRATA" serve -d "$dir" 2>>"$dir.log" &
	SERVE_PID=$!
	DAEMONS[$SERVE_PID]=$dir
	for i in $(seq 2000); do
		tail -c +$((off + 1)) "$dir.log" 2>/dev/null | grep -q ': ready' && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.005
	done
	log "strata serve -d $dir did not start:"
	cat "$dir.log" >&2
	exit 4
}
port_busy() { ss -Htln 2>/dev/null | awk '{ print $4 }' | grep -q ":$1\$"; }
free_port() { local p=$1; while port_busy "$p"; do p=$((p + 1)); done; echo "$p"; }
s() { LD_PRELOAD=$NOSYNC "$STRATA" "$@"; } # setup commands: no fsync
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
key_of() { "$STRATA" id -d "$1" --json | sed -n 's/.*"key": "\([0-9a-f]*\)".*/\1/p' | head -n1; }

# --- setup (not measured) ---------------------------------------------------
P=$(free_port "$PORT")
s init -d "$WORK/city" --name xiamen --root --listen "tcp://127.0.0.1:$P" >/dev/null
s init -d "$WORK/branch" --name xiamen/hetong >/dev/null
serve "$WORK/city" "$NOSYNC"
CITY_PID=$SERVE_PID
s invite -d "$WORK/city" --name xiamen/hetong | s join -d "$WORK/branch" >/dev/null
log "importing $MEMBERS members at the branch"
"$GEN" --count "$MEMBERS" >"$WORK/members.csv"
s member import -d "$WORK/branch" "$WORK/members.csv" >/dev/null
BKEY=$(key_of "$WORK/branch")
up_head() { # DIR: the head seq of the up feed there (the branch holds only its own)
	"$STRATA" log -d "$1" --feed up --json | grep -o '"seq":[0-9]*' | tail -1 | grep -o '[0-9]*$' || echo 0
}
HEAD=$(up_head "$WORK/branch")
serve "$WORK/branch" "$NOSYNC"
BRANCH_PID=$SERVE_PID
log "replicating the branch's up feed to the city"
"$WAIT" --node "$WORK/city" --author "$BKEY" --feed up --seq "$HEAD" --timeout 600 >/dev/null

# --- backup of the live store ------------------------------------------------
log "strata backup x $RUNS (both daemons running)"
for r in $(seq "$RUNS"); do
	t=$EPOCHREALTIME
	"$STRATA" backup -d "$WORK/branch" -o "$WORK/branch-$r.bak" >/dev/null
	echo "$(ms_since "$t")"
	echo >&2 -n .
done >"$WORK/backup.ms"
echo >&2
BACKUP_MS=$(median <"$WORK/backup.ms")
BACKUP_BYTES=$(stat -c %s "$WORK/branch-1.bak")
STORE_BYTES=$(stat -c %s "$WORK/branch/store/data.mdb")

# --- one more entry, then restore ---------------------------------------------
"$STRATA" member add -d "$WORK/branch" --id ZZ000001 --name 郑文君 --category full --joined 2021-07-01 >/dev/null
AFTER=$(up_head "$WORK/branch")
"$WAIT" --node "$WORK/city" --author "$BKEY" --feed up --seq "$AFTER" --timeout 120 >/dev/null
stop_daemon "$BRANCH_PID"
t=$EPOCHREALTIME
"$STRATA" restore -d "$WORK/branch" -i "$WORK/branch-1.bak" >/dev/null
RESTORE_MS=$(ms_since "$t")

# --- serve start to the first allowed write -----------------------------------
t=$EPOCHREALTIME
serve "$WORK/branch"
READY_MS=$(ms_since "$t")
"$STRATA" member add -d "$WORK/branch" --id ZZ000002 --name 林海燕 --category full --joined 2021-07-01 >/dev/null
WRITE_MS=$(ms_since "$t")
SEQ=$(up_head "$WORK/branch")

printf 'backup and restore of a branch with %d members\n' "$MEMBERS"
printf '  strata backup (live, median of %d)   %8d ms\n' "$RUNS" "$BACKUP_MS"
printf '  backup file                        %8.1f MB (data.mdb %.1f MB)\n' \
	"$(awk -v b="$BACKUP_BYTES" 'BEGIN { print b / 1e6 }')" "$(awk -v b="$STORE_BYTES" 'BEGIN { print b / 1e6 }')"
printf '  strata restore                     %8d ms\n' "$RESTORE_MS"
printf '  serve start to ready               %8d ms\n' "$READY_MS"
printf '  serve start to first allowed write %8d ms (up #%s; before the restore the feed was at #%s)\n' \
	"$WRITE_MS" "$SEQ" "$AFTER"
