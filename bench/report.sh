#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/report.sh: one-click reporting at city scale (issue 4). Builds a
# real trust domain of a city, D districts and B branches per district
# (default 10 x 100, 209,000 members, 209 per branch), every branch with a
# year of monthly dues (2025-12 .. 2026-11), every report signed and rolled
# up branch -> district -> city for 2026-11; then times, several runs each:
#   - `strata report submit` at one branch (about 209 members), target < 50 ms
#   - `strata report show --tree` at the city, target < 1 s
# with the peak RSS of both (/usr/bin/time %M), and, beside them, submit at
# a district and at the city and `report show --tree --json` at the city.
# Benchmarks print figures; they never assert. Docs: docs/PERFORMANCE.md.
#
# How the network is built (setup, not measured), as fast as stays faithful:
# real keys (strata init), real certificates (every district joins the city,
# every branch its district, each parent serving while its children join
# over CURVE), real CSV imports and real signed reports (strata member
# import, dues import, report submit at every node). Feeds move up as
# bundles (strata export/import: the same entries and checks as a link)
# instead of 1,000 live daemons: branch -> district, district -> city.
# Setup runs under bench/nosync.c (no fsync); the timed commands do not.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: bench/report.sh [--quick] [--districts D] [--branches B] [--members N]
                       [--runs R] [--jobs J] [--port P] [--keep] [--reuse]

  --quick         2 districts x 10 branches, 4,180 members (about 20 s)
  --districts D   districts under the city (default 10)
  --branches B    branches per district (default 100)
  --members N     members in the city, spread evenly (default 209000)
  --runs R        timed runs of each command (default 7; the median is shown)
  --jobs J        parallel setup jobs (default 2)
  --port P        first TCP port on 127.0.0.1 (default 27600; D+1 are used,
                  the next free ones are taken)
  --keep          keep the network in build-bench/report-work/ (--quick:
                  report-work-quick/) afterwards
  --reuse         measure again the network a --keep run left there, if it
                  has these sizes (skips the setup; implies --keep)

Progress goes to stderr, the figures to stdout.
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-bench
DISTRICTS=10 BRANCHES=100 MEMBERS=209000 RUNS=7 JOBS=2 PORT=27600 KEEP=0 QUICK=0 REUSE=0
d_set=0 b_set=0 m_set=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	--reuse) REUSE=1; KEEP=1 ;;
	--districts) DISTRICTS=${2:?--districts needs a number}; d_set=1; shift ;;
	--branches) BRANCHES=${2:?--branches needs a number}; b_set=1; shift ;;
	--members) MEMBERS=${2:?--members needs a number}; m_set=1; shift ;;
	--runs) RUNS=${2:?--runs needs a number}; shift ;;
	--jobs) JOBS=${2:?--jobs needs a number}; shift ;;
	--port) PORT=${2:?--port needs a number}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench/report.sh: unknown argument \"$1\" (see --help)" >&2; exit 1 ;;
	esac
	shift
done
if [ "$QUICK" = 1 ]; then
	[ "$d_set" = 1 ] || DISTRICTS=2
	[ "$b_set" = 1 ] || BRANCHES=10
	[ "$m_set" = 1 ] || MEMBERS=4180
fi
for n in "$DISTRICTS" "$BRANCHES" "$MEMBERS" "$RUNS" "$JOBS" "$PORT"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench/report.sh: \"$n\" is not a positive number" >&2; exit 1; }
done
[ "$DISTRICTS" -le 99 ] && [ "$BRANCHES" -le 9999 ] && [ "$PORT" -le 65000 ] ||
	{ echo "bench/report.sh: at most 99 districts, 9999 branches each, port <= 65000" >&2; exit 1; }
NB=$((DISTRICTS * BRANCHES))
[ "$MEMBERS" -ge "$NB" ] || { echo "bench/report.sh: fewer members than branches" >&2; exit 1; }
PERIOD=2026-11

log() { echo "bench: $*" >&2; }

cd "$ROOT"
if [ ! -d "$BUILD" ]; then
	log "meson setup build-bench --buildtype=release"
	meson setup "$BUILD" --buildtype=release >&2
fi
log "ninja -C build-bench"
ninja -C "$BUILD" >&2
STRATA=$BUILD/node/strata
GEN=$BUILD/bench/strata-gen-members
NOSYNC=$BUILD/bench/libstrata-nosync.so
if [ ! -x /usr/bin/time ]; then
	log "installing the Debian package time (for /usr/bin/time)"
	apt-get install -y time >&2
fi

WORK=$BUILD/report-work$([ "$QUICK" = 0 ] || echo -quick) # --quick keeps its own
SIZES="$DISTRICTS $BRANCHES $MEMBERS"
SETUP=1
if [ "$REUSE" = 1 ] && [ -f "$WORK/setup.done" ] && [ "$(head -n 1 "$WORK/setup.done")" = "$SIZES" ]; then
	SETUP=0
	SETUP_S=$(sed -n 2p "$WORK/setup.done")
	log "reusing the network in $WORK (set up in $SETUP_S s)"
else
	[ "$REUSE" = 0 ] || log "no network of these sizes in $WORK to reuse: setting one up"
	rm -rf "$WORK"
	mkdir -p "$WORK"
fi
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

serve() { # DIR: starts `strata serve` (setup: no fsync), waits for "ready"; sets SERVE_PID
	local dir=$1 i
	LD_PRELOAD=$NOSYNC "$STRATA" serve -d "$dir" 2>"$dir.log" &
	SERVE_PID=$!
	DAEMONS[$SERVE_PID]=$dir
	for i in $(seq 200); do
		grep -q ': ready' "$dir.log" 2>/dev/null && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	log "strata serve -d $dir did not start:"
	cat "$dir.log" >&2
	exit 4
}
port_busy() { ss -Htln 2>/dev/null | awk '{ print $4 }' | grep -q ":$1\$"; }
free_port() { local p=$1; while port_busy "$p"; do p=$((p + 1)); done; echo "$p"; }
s() { LD_PRELOAD=$NOSYNC "$STRATA" "$@"; } # setup commands: no fsync
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
dname() { printf 'd%02d' "$1"; }
bname() { printf 'd%02d-b%04d' "$1" "$2"; }

# --- the network -----------------------------------------------------------
if [ "$SETUP" = 1 ]; then
T_SETUP=$EPOCHREALTIME
log "generating $MEMBERS members in $NB branches, a year of dues each"
mkdir -p "$WORK/csv"
"$GEN" --count "$MEMBERS" >"$WORK/members.csv"
# Branch i (0-based) takes rows [i*N/NB, (i+1)*N/NB); dues 2025-12..2026-11
# for each member, about 1 in 20 unpaid, amounts 10.00..14.90 yuan.
awk -F, -v nb="$NB" -v n="$MEMBERS" -v b="$BRANCHES" -v dir="$WORK/csv" '
NR == 1 { next }
{
	r = NR - 2; i = int(r * nb / n)
	if (i != cur || r == 0) {
		if (r) { close(mf); close(df) }
		cur = i
		name = sprintf("d%02d-b%04d", int(i / b) + 1, i % b + 1)
		mf = dir "/" name ".members.csv"; df = dir "/" name ".dues.csv"
		print "id,name,category,joined,phone,birth,gender" > mf
		print "member,period,amount,paid,method" > df
	}
	print > mf
	amount = 1000 + (r % 50) * 10  # fen; the CSV has yuan (12.50)
	for (p = 0; p < 12; p++) {
		y = p == 0 ? 2025 : 2026; m = p == 0 ? 12 : p
		per = sprintf("%04d-%02d", y, m)
		if ((r * 7 + p) % 20 == 0)
			printf "%s,%s,%d.%02d,,\n", $1, per, amount / 100, amount % 100 > df
		else
			printf "%s,%s,%d.%02d,%s-%02d,%s\n", $1, per, amount / 100, amount % 100, per, 1 + (r + p) % 20, (r % 3 ? "wechat" : "cash") > df
	}
}' "$WORK/members.csv"

P_CITY=$(free_port "$PORT")
s init -d "$WORK/city" --name xiamen --root --listen "tcp://127.0.0.1:$P_CITY" >/dev/null
declare -a DPORT=()
p=$P_CITY
for d in $(seq "$DISTRICTS"); do
	p=$(free_port $((p + 1)))
	DPORT[$d]=$p
	s init -d "$WORK/$(dname "$d")" --name "xiamen/$(dname "$d")" --listen "tcp://127.0.0.1:$p" >/dev/null
done
log "keys: $NB branches (strata init, $JOBS jobs)"
for d in $(seq "$DISTRICTS"); do
	for b in $(seq "$BRANCHES"); do echo "$(bname "$d" "$b") xiamen/$(dname "$d")/b$(printf %04d "$b")"; done
done | xargs -P "$JOBS" -n 2 sh -c 'LD_PRELOAD=$0 "$1" init -d "$2/$3" --name "$4" >/dev/null' "$NOSYNC" "$STRATA" "$WORK"

log "certificates: $DISTRICTS districts join the city, serving on 127.0.0.1:$P_CITY"
serve "$WORK/city"
for d in $(seq "$DISTRICTS"); do
	s invite -d "$WORK/city" --name "xiamen/$(dname "$d")" | s join -d "$WORK/$(dname "$d")" >/dev/null
done
stop_daemon "$SERVE_PID"
# A join hands over the certificate; the chain above it travels in the
# trust feeds, which a live link would carry down: here, a bundle.
s export -d "$WORK/city" -o "$WORK/city-trust.bundle" --feeds trust >/dev/null
for d in $(seq "$DISTRICTS"); do
	dd=$WORK/$(dname "$d")
	s import -d "$dd" "$WORK/city-trust.bundle" >/dev/null
	log "certificates: $BRANCHES branches join $(dname "$d") ($(since "$T_SETUP") s into setup)"
	serve "$dd"
	for b in $(seq "$BRANCHES"); do
		s invite -d "$dd" --name "xiamen/$(dname "$d")/b$(printf %04d "$b")" | s join -d "$WORK/$(bname "$d" "$b")" >/dev/null
	done
	stop_daemon "$SERVE_PID"
done

log "branches: member import, dues import, report submit, export ($JOBS jobs; $(since "$T_SETUP") s into setup)"
branch_work() { # NOSYNC STRATA WORK NAME
	local S=$2 w=$3 n=$4
	export LD_PRELOAD=$1
	"$S" member import -d "$w/$n" "$w/csv/$n.members.csv" >/dev/null &&
		"$S" dues import -d "$w/$n" "$w/csv/$n.dues.csv" >/dev/null &&
		"$S" report submit -d "$w/$n" --period 2026-11 >/dev/null &&
		"$S" export -d "$w/$n" -o "$w/$n.bundle" --feeds up,report,trust >/dev/null ||
		{ echo "bench: setup of branch $n failed" >&2; exit 255; }
}
export -f branch_work
for d in $(seq "$DISTRICTS"); do
	for b in $(seq "$BRANCHES"); do bname "$d" "$b"; echo; done
done | xargs -P "$JOBS" -n 1 bash -c 'branch_work "$@"' _ "$NOSYNC" "$STRATA" "$WORK"

log "districts: import their branches' bundles, report submit, export ($(since "$T_SETUP") s into setup)"
district_work() { # NOSYNC STRATA WORK B D
	local S=$2 w=$3 dn b
	export LD_PRELOAD=$1
	dn=$(printf d%02d "$5")
	for b in $(seq "$4"); do
		"$S" import -d "$w/$dn" "$w/$dn-b$(printf %04d "$b").bundle" >/dev/null ||
			{ echo "bench: import into $dn failed" >&2; exit 255; }
	done
	"$S" report submit -d "$w/$dn" --period 2026-11 >/dev/null &&
		"$S" export -d "$w/$dn" -o "$w/$dn.bundle" >/dev/null ||
		{ echo "bench: setup of district $dn failed" >&2; exit 255; }
}
export -f district_work
seq "$DISTRICTS" | xargs -P "$JOBS" -n 1 bash -c 'district_work "$@"' _ "$NOSYNC" "$STRATA" "$WORK" "$BRANCHES"

log "city: imports the districts' bundles, report submit ($(since "$T_SETUP") s into setup)"
for d in $(seq "$DISTRICTS"); do
	s import -d "$WORK/city" "$WORK/$(dname "$d").bundle" >/dev/null
done
s report submit -d "$WORK/city" --period "$PERIOD" >/dev/null
SETUP_S=$(since "$T_SETUP")
log "setup done in $SETUP_S s"
# The city as the reports left it, before any view kept its recomputations:
# each first view below starts from a copy of it.
cp -a "$WORK/city" "$WORK/city.pristine"
printf '%s\n%s\n' "$SIZES" "$SETUP_S" >"$WORK/setup.done"
fi # SETUP

# The first view at the city recomputes every descendant's figures from its
# up feed (the check) and keeps them in the city's index; later views read
# them. Timed FIRST_RUNS times, each on a fresh copy of the city's node.
FIRST_RUNS=3
LOAD_FIRST=$(cut -d' ' -f1-3 /proc/loadavg)
first_ms=() first_rss=() first_cpu=()
for i in $(seq "$FIRST_RUNS"); do
	log "timing: the first report show --tree --json at the city, run $i/$FIRST_RUNS"
	rm -rf "$WORK/city"
	cp -a "$WORK/city.pristine" "$WORK/city"
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M %U %S' -o "$WORK/time.out" \
		"$STRATA" report show -d "$WORK/city" --period "$PERIOD" --tree --json >"$WORK/tree.json"
	first_ms+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
	read -r rss u sy <"$WORK/time.out"
	first_rss+=("$rss")
	first_cpu+=("$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.0f", (u + s) * 1000 }')")
done

# The network must be what it claims: the city sees every branch's report,
# rolled up to all members, and every report matches its recomputation.
city_members=$(jq '.node.total | .members_active + .members_lapsed + .members_deceased + .members_transferred' "$WORK/tree.json" 2>/dev/null || echo "?")
reported=$(grep -o '"reported": true' "$WORK/tree.json" | wc -l)
matches=$(grep -o '"check": "matches"' "$WORK/tree.json" | wc -l)
if [ "$reported" != $((NB + DISTRICTS + 1)) ] || [ "$matches" != $((NB + DISTRICTS)) ]; then
	log "the city sees $reported reports ($matches checked), not $((NB + DISTRICTS + 1)) ($((NB + DISTRICTS))):"
	head -c 2000 "$WORK/tree.json" >&2
	exit 4
fi
store_mib() { awk -v b="$(stat -c %s "$1/store/data.mdb")" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# --- the measurements ------------------------------------------------------
# Runs a command under /usr/bin/time RUNS times (after one untimed warm-up,
# so every run sees the same page cache); sets WALLS (ms), RSSS (KiB).
measure() {
	local i t0 t1
	"$@" >/dev/null
	WALLS=() RSSS=() CPUS=()
	for i in $(seq "$RUNS"); do
		t0=$EPOCHREALTIME
		/usr/bin/time -f '%M %U %S' -o "$WORK/time.out" "$@" >/dev/null
		t1=$EPOCHREALTIME
		WALLS+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
		read -r rss u sy <"$WORK/time.out"
		RSSS+=("$rss")
		CPUS+=("$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.0f", (u + s) * 1000 }')")
	done
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
row() { printf '%-46s %-16s %-10s %s\n' "$@"; }
result() { # LABEL TARGET
	row "$1" "$(median "${WALLS[@]}") ms" "$2" "${WALLS[*]} ms"
	row "  peak RSS" "$(mib "$(maxof "${RSSS[@]}")") MiB" "" "$(for r in "${RSSS[@]}"; do printf '%s ' "$(mib "$r")"; done)MiB"
	row "  CPU time (user+sys)" "$(median "${CPUS[@]}") ms" "" "${CPUS[*]} ms"
}

B1=$WORK/$(bname 1 1)
branch_members=$(($(wc -l <"$WORK/csv/$(bname 1 1).members.csv") - 1))
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log "timing: report submit at $(bname 1 1) ($branch_members members), $RUNS runs"
measure "$STRATA" report submit -d "$B1" --period "$PERIOD"
sub_b=("${WALLS[@]}") sub_b_rss=("${RSSS[@]}") sub_b_cpu=("${CPUS[@]}")
log "timing: report show --tree at the city, $RUNS runs"
measure "$STRATA" report show -d "$WORK/city" --period "$PERIOD" --tree
show_c=("${WALLS[@]}") show_c_rss=("${RSSS[@]}") show_c_cpu=("${CPUS[@]}")
measure "$STRATA" report show -d "$WORK/city" --period "$PERIOD" --tree --json
show_cj=("${WALLS[@]}") show_cj_rss=("${RSSS[@]}") show_cj_cpu=("${CPUS[@]}")
log "timing: report submit at a district and at the city, $RUNS runs"
measure "$STRATA" report submit -d "$WORK/$(dname 1)" --period "$PERIOD"
sub_d=("${WALLS[@]}") sub_d_rss=("${RSSS[@]}") sub_d_cpu=("${CPUS[@]}")
measure "$STRATA" report submit -d "$WORK/city" --period "$PERIOD"
sub_c=("${WALLS[@]}") sub_c_rss=("${RSSS[@]}") sub_c_cpu=("${CPUS[@]}")
# A branch's new report reaching the city (here by bundle: the timed submits
# above wrote new ones): the import stores it and checks it, once.
log "timing: the city imports $(bname 1 1)'s latest report (and checks it), once"
"$STRATA" export -d "$B1" -o "$WORK/b1-new.bundle" >/dev/null
t0=$EPOCHREALTIME
/usr/bin/time -f '%M %U %S' -o "$WORK/time.out" "$STRATA" import -d "$WORK/city" "$WORK/b1-new.bundle" >"$WORK/import.out"
imp_ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
read -r imp_rss u sy <"$WORK/time.out"
imp_cpu=$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.0f", (u + s) * 1000 }')
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] || COMMIT="$COMMIT+dirty"
echo "Strata report benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')$([ "$QUICK" = 1 ] && echo ' (--quick: small sizes)')"
echo "machine: $(nproc) cores, $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
echo "build:   release (build-bench/), commit $COMMIT; load $LOAD0 -> $LOAD1 (1/5/15 min)"
echo "network: city, $DISTRICTS districts, $NB branches, $city_members members, dues 2025-12..2026-11;"
echo "         period $PERIOD; setup $SETUP_S s (not timed below); stores: city $(store_mib "$WORK/city") MiB,"
echo "         district $(store_mib "$WORK/$(dname 1)") MiB, branch $(store_mib "$B1") MiB (data.mdb)"
echo "timed:   $RUNS runs each after one warm-up, median wall time; peak RSS = /usr/bin/time %M, largest run;"
echo "         the first view at the city: $FIRST_RUNS runs, each on a fresh copy of the city's node"
echo
row "figure" "median" "target" "all runs"
row "------" "------" "------" "--------"
WALLS=("${sub_b[@]}") RSSS=("${sub_b_rss[@]}") CPUS=("${sub_b_cpu[@]}"); result "report submit, branch of $branch_members members" "< 50 ms"
WALLS=("${first_ms[@]}") RSSS=("${first_rss[@]}") CPUS=("${first_cpu[@]}")
result "report show --tree --json, city, first view" ""
row "  (each on a fresh copy of the city as setup left it: recomputes the checks its imports did not keep; load $LOAD_FIRST)" "" "" ""
WALLS=("${show_c[@]}") RSSS=("${show_c_rss[@]}") CPUS=("${show_c_cpu[@]}"); result "report show --tree, city ($NB+$DISTRICTS reports)" "< 1000 ms"
WALLS=("${show_cj[@]}") RSSS=("${show_cj_rss[@]}") CPUS=("${show_cj_cpu[@]}"); result "report show --tree --json, city" "" 
WALLS=("${sub_d[@]}") RSSS=("${sub_d_rss[@]}") CPUS=("${sub_d_cpu[@]}"); result "report submit, district ($BRANCHES branches)" ""
WALLS=("${sub_c[@]}") RSSS=("${sub_c_rss[@]}") CPUS=("${sub_c_cpu[@]}"); result "report submit, city ($DISTRICTS districts)" ""
WALLS=("$imp_ms") RSSS=("$imp_rss") CPUS=("$imp_cpu"); result "import at the city of a branch's new report" ""
row "  ($(sed 's/ from .*;/;/' "$WORK/import.out"); the import checks the report)" "" "" ""
