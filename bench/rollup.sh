#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/rollup.sh: the report roll-up scale curve (issue 6). For each size
# (default 10, 100, 1,000 and 10,000 branches) builds a city, its districts
# and branches with bench/gen_rollup.c (setup, not timed), then measures at
# the city, with the real `strata` binary:
#   - roll-up ingest: `strata import` of the bundle of every district's and
#     branch's feeds (the entries' checks, and the recomputation check of
#     every report, which import keeps as a link does), each run on a fresh
#     copy of the city: wall time, entries/s, peak RSS (/usr/bin/time %M);
#   - `strata report submit` at the city (the roll-up of its districts);
#   - `strata report show --tree` at the city (every report of the tree);
#   - the city's store size after the ingest.
# Benchmarks print figures; they never assert. Docs: docs/PERFORMANCE.md,
# "Report roll-up scale curve".
set -euo pipefail

usage() {
	cat <<'EOF'
usage: bench/rollup.sh [--quick] [--sizes N,N,...] [--members M] [--months K]
                       [--runs R] [--ingest-runs I] [--json] [--keep]

  --quick          sizes 10,100,1000 only (well under a minute)
  --sizes N,...    branches in the city, one row each (default 10,100,1000,10000).
                   The shape is D districts x N/D branches with D = 10^floor(e/2)
                   for N of e+1 digits: 10 = 1 x 10, 100 = 10 x 10,
                   1,000 = 10 x 100, 10,000 = 100 x 100 (N must divide by D)
  --members M      members per branch (default 20)
  --months K       months of dues per member, up to the period 2026-11 (default 12)
  --runs R         timed runs of report submit and report show --tree, after one
                   untimed warm-up (default 5; the median is shown)
  --ingest-runs I  timed imports, each into a fresh copy of the city (default 3)
  --json           one JSON object on stdout instead of the table
  --keep           keep the last size's city and bundle in build-bench/rollup-work/

Setup (strata-gen-rollup) runs under the no-fsync shim; the timed commands do
not. Progress goes to stderr, the figures to stdout. The four default sizes
take about 3 minutes on a 2-core machine (setup: 10,000 branches ~100 s).
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-bench
sizes_set=0 SIZES=10,100,1000,10000 MEMBERS=20 MONTHS=12 RUNS=5 INGEST_RUNS=3 JSON=0 KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) [ "$sizes_set" = 1 ] || SIZES=10,100,1000 ;;
	--sizes) SIZES=${2:?--sizes needs a list}; sizes_set=1; shift ;;
	--members) MEMBERS=${2:?--members needs a number}; shift ;;
	--months) MONTHS=${2:?--months needs a number}; shift ;;
	--runs) RUNS=${2:?--runs needs a number}; shift ;;
	--ingest-runs) INGEST_RUNS=${2:?--ingest-runs needs a number}; shift ;;
	--json) JSON=1 ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench/rollup.sh: unknown argument \"$1\" (see --help)" >&2; exit 1 ;;
	esac
	shift
done
for n in "$MEMBERS" "$MONTHS" "$RUNS" "$INGEST_RUNS" ${SIZES//,/ }; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench/rollup.sh: \"$n\" is not a positive number" >&2; exit 1; }
done
[ "$MONTHS" -le 120 ] || { echo "bench/rollup.sh: at most 120 months" >&2; exit 1; }
PERIOD=2026-11

log() { echo "bench: $*" >&2; }
shape() { # N: prints "D B"
	local n=$1 d=1 i
	for ((i = 0; i < (${#n} - 1) / 2; i++)); do d=$((d * 10)); done
	echo "$d $((n / d))"
}
for n in ${SIZES//,/ }; do
	read -r d b <<<"$(shape "$n")"
	[ $((d * b)) = "$n" ] && [ "$d" -le 999 ] && [ "$b" -le 99999 ] ||
		{ echo "bench/rollup.sh: $n branches do not split into $d districts (see --help)" >&2; exit 1; }
done

cd "$ROOT"
if [ ! -d "$BUILD" ]; then
	log "meson setup build-bench --buildtype=release"
	meson setup "$BUILD" --buildtype=release >&2
fi
log "ninja -C build-bench"
ninja -C "$BUILD" >&2
STRATA=$BUILD/node/strata
GEN=$BUILD/bench/strata-gen-rollup
NOSYNC=$BUILD/bench/libstrata-nosync.so
if [ ! -x /usr/bin/time ]; then
	log "installing the Debian package time (for /usr/bin/time)"
	apt-get install -y time >&2
fi

WORK=$BUILD/rollup-work
rm -rf "$WORK"
mkdir -p "$WORK"
cleanup() { [ "$KEEP" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# Runs a command under /usr/bin/time; sets T_MS (wall, ms), T_RSS (KiB),
# T_CPU (user+sys, ms). Its stdout goes to $WORK/last.out.
timed() {
	local t0 t1 u s
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M %U %S' -o "$WORK/time.out" "$@" >"$WORK/last.out"
	t1=$EPOCHREALTIME
	T_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
	read -r T_RSS u s <"$WORK/time.out"
	T_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.0f", (u + s) * 1000 }')
}
# RUNS timed runs after one warm-up; sets WALLS, RSSS, CPUS (arrays).
measure() {
	local i
	"$@" >/dev/null
	WALLS=() RSSS=() CPUS=()
	for i in $(seq "$RUNS"); do
		timed "$@"
		WALLS+=("$T_MS") RSSS+=("$T_RSS") CPUS+=("$T_CPU")
	done
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }
mib() { awk -v k="$1" -v d="${2:-1024}" 'BEGIN { printf "%.1f", k / d }'; }
jarr() { local IFS=,; echo "[$*]"; }

LOAD_START=$(load)
T_ALL=$EPOCHREALTIME
ROWS=() JROWS=()
for n in ${SIZES//,/ }; do
	read -r D B <<<"$(shape "$n")"
	W=$WORK/n$n
	rm -rf "$WORK"/n*
	log "$n branches ($D x $B): setup, strata-gen-rollup under the no-fsync shim"
	t0=$EPOCHREALTIME
	LD_PRELOAD=$NOSYNC "$GEN" --out "$W" --districts "$D" --branches "$B" --members "$MEMBERS" --months "$MONTHS" \
		--period "$PERIOD" >"$WORK/gen.out"
	setup_s=$(since "$t0")
	gen_entries=$(sed -n 's/.* entries \([0-9]*\) .*/\1/p' "$WORK/gen.out")
	bundle_bytes=$(stat -c %s "$W/rollup.bundle")
	mv "$W/city" "$W/city.pristine"
	load0=$(load)

	ing_ms=() ing_rss=() ing_cpu=()
	for i in $(seq "$INGEST_RUNS"); do
		log "$n branches: strata import of the roll-up bundle at the city, run $i/$INGEST_RUNS"
		rm -rf "$W/city"
		cp -a "$W/city.pristine" "$W/city"
		timed "$STRATA" import -d "$W/city" "$W/rollup.bundle"
		ing_ms+=("$T_MS") ing_rss+=("$T_RSS") ing_cpu+=("$T_CPU")
	done
	stored=$(sed -n 's/^imported \([0-9]*\) new entries.*/\1/p' "$WORK/last.out")
	store_bytes=$(stat -c %s "$W/city/store/data.mdb")

	# The city must hold what the curve claims: every district's and
	# branch's report, each matching its recomputation, all members.
	"$STRATA" report show -d "$W/city" --period "$PERIOD" --tree --json >"$WORK/tree.json"
	reported=$(grep -o '"reported": true' "$WORK/tree.json" | wc -l)
	matches=$(grep -o '"check": "matches"' "$WORK/tree.json" | wc -l)
	members=$(jq '[.node.children[].total | .members_active + .members_lapsed + .members_deceased +
		.members_transferred] | add' "$WORK/tree.json" 2>/dev/null || echo $((n * MEMBERS)))
	if [ "$stored" != "$gen_entries" ] || [ "$reported" != $((n + D)) ] || [ "$matches" != $((n + D)) ] ||
		[ "$members" != $((n * MEMBERS)) ]; then
		log "the city stored $stored of $gen_entries entries and sees $reported reports ($matches matching, of" \
			"$members members), not $((n + D)) (of $((n * MEMBERS))):"
		head -c 2000 "$WORK/tree.json" >&2
		exit 4
	fi

	log "$n branches: report submit at the city, $RUNS runs"
	measure "$STRATA" report submit -d "$W/city" --period "$PERIOD"
	sub_ms=("${WALLS[@]}") sub_rss=("${RSSS[@]}") sub_cpu=("${CPUS[@]}")
	rolled=$(sed -n 's/.*; \([0-9]*\) child reports\{0,1\} rolled up.*/\1/p' "$WORK/last.out")
	log "$n branches: report show --tree at the city, $RUNS runs"
	measure "$STRATA" report show -d "$W/city" --period "$PERIOD" --tree
	show_ms=("${WALLS[@]}") show_rss=("${RSSS[@]}") show_cpu=("${CPUS[@]}")
	load1=$(load)

	ing_med=$(median "${ing_ms[@]}")
	rate=$(awk -v n="$stored" -v ms="$ing_med" 'BEGIN { printf "%.0f", n / (ms / 1000) }')
	ROWS+=("$(printf '%-8s %-9s %-7s %-8s %-10s %-9s %-9s %-10s %-9s %-10s %-9s %-9s %-8s %s' \
		"$n" "${D}x$B" "$((n * MEMBERS))" "$stored" "$ing_med" "$rate" "$(mib "$(maxof "${ing_rss[@]}")")" \
		"$(median "${show_ms[@]}")" "$(mib "$(maxof "${show_rss[@]}")")" "$(median "${sub_ms[@]}")" \
		"$(mib "$(maxof "${sub_rss[@]}")")" "$(mib "$store_bytes" 1048576)" "$setup_s" "$load0 -> $load1")")
	JROWS+=("{\"branches\": $n, \"districts\": $D, \"branches_per_district\": $B, \"members\": $((n * MEMBERS)),
   \"reports\": $((n + D)), \"entries\": $stored, \"bundle_bytes\": $bundle_bytes, \"setup_s\": $setup_s,
   \"ingest\": {\"runs_ms\": $(jarr "${ing_ms[@]}"), \"median_ms\": $ing_med, \"entries_per_s\": $rate,
              \"peak_rss_kib_runs\": $(jarr "${ing_rss[@]}"), \"cpu_ms_runs\": $(jarr "${ing_cpu[@]}")},
   \"show_tree\": {\"runs_ms\": $(jarr "${show_ms[@]}"), \"median_ms\": $(median "${show_ms[@]}"),
                 \"peak_rss_kib_runs\": $(jarr "${show_rss[@]}"), \"cpu_ms_runs\": $(jarr "${show_cpu[@]}")},
   \"submit\": {\"children\": ${rolled:-null}, \"runs_ms\": $(jarr "${sub_ms[@]}"), \"median_ms\": $(median "${sub_ms[@]}"),
              \"peak_rss_kib_runs\": $(jarr "${sub_rss[@]}"), \"cpu_ms_runs\": $(jarr "${sub_cpu[@]}")},
   \"store_bytes\": $store_bytes, \"load_average\": {\"start\": \"$load0\", \"end\": \"$load1\"}}")
	log "$n branches: ingest $ing_med ms ($rate entries/s), show --tree $(median "${show_ms[@]}") ms, submit $(median "${sub_ms[@]}") ms; the city's report rolls up $rolled districts"
	[ "$KEEP" = 1 ] || rm -rf "$W"
done
LOAD_END=$(load)
TOTAL_S=$(since "$T_ALL")

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] || COMMIT="$COMMIT+dirty"
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
if [ "$JSON" = 1 ]; then
	echo "{\"date\": \"$DATE\", \"commit\": \"$COMMIT\", \"build\": \"release\", \"nproc\": $(nproc), \"cpu\": \"$CPU\","
	echo " \"members_per_branch\": $MEMBERS, \"months_of_dues\": $MONTHS, \"period\": \"$PERIOD\", \"runs\": $RUNS,"
	echo " \"ingest_runs\": $INGEST_RUNS, \"total_s\": $TOTAL_S, \"load_average\": {\"start\": \"$LOAD_START\", \"end\": \"$LOAD_END\"},"
	echo " \"sizes\": [$(IFS=,; echo "${JROWS[*]}")]}"
	exit 0
fi
echo "Strata report roll-up scale curve, $DATE"
echo "machine: $(nproc) cores, $CPU, $(uname -sr)"
echo "build:   release (build-bench/), commit $COMMIT; load $LOAD_START -> $LOAD_END (1/5/15 min); $TOTAL_S s in all"
echo "network: per branch $MEMBERS members, $MONTHS months of dues (to $PERIOD), one report; every district and"
echo "         branch report checked against its recomputation at the city; setup not timed (strata-gen-rollup)"
echo "timed:   ingest = strata import of the districts' bundle into a fresh copy of the city, median of"
echo "         $INGEST_RUNS; show --tree and submit at the city: median of $RUNS after one warm-up; RSS = /usr/bin/time %M, largest"
echo
printf '%-8s %-9s %-7s %-8s %-10s %-9s %-9s %-10s %-9s %-10s %-9s %-9s %-8s %s\n' \
	branches shape members entries "ingest ms" entries/s "RSS MiB" "show ms" "RSS MiB" "submit ms" "RSS MiB" \
	"store MiB" "setup s" "load (1/5/15 min)"
printf '%s\n' "${ROWS[@]}"
