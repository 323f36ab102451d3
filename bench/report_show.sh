#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/report_show.sh: `strata report show` at a city of 10,000 branches
# (issue 14): --tree and --summary, text and --json, each a median of RUNS
# after one untimed warm-up: wall time, CPU time and peak RSS (/usr/bin/time),
# printed beside the targets (under 1 s, under 64 MiB). The city is built
# as bench/rollup.sh builds it (strata-gen-rollup under the no-fsync shim,
# then `strata import` of the districts' bundle: setup, not timed), or
# reused with --city. --old BINARY measures an older strata on the same
# city beside the new one (a command it does not know shows "n/a").
# Benchmarks print figures; they never assert. Docs: docs/PERFORMANCE.md,
# "Issue 14".
set -euo pipefail

usage() {
	cat <<'EOF2'
usage: bench/report_show.sh [--branches N] [--runs R] [--city DIR] [--old BINARY] [--keep]

  --branches N   branches under the city: 100 districts x N/100 (default 10000)
  --runs R       timed runs per command after one warm-up (default 3; the median)
  --city DIR     a city node directory already built (skips the setup)
  --old BINARY   another strata binary (e.g. a release build of main) timed on the same city
  --keep         keep the built city in build-bench/show-work/

Setup takes about 2 minutes for 10,000 branches on 2 cores.
EOF2
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-bench
BRANCHES=10000 RUNS=3 CITY= OLD= KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--branches) BRANCHES=${2:?--branches needs a number}; shift ;;
	--runs) RUNS=${2:?--runs needs a number}; shift ;;
	--city) CITY=${2:?--city needs a directory}; shift ;;
	--old) OLD=${2:?--old needs a binary}; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench/report_show.sh: unknown argument \"$1\" (see --help)" >&2; exit 1 ;;
	esac
	shift
done
for n in "$BRANCHES" "$RUNS"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench/report_show.sh: \"$n\" is not a positive number" >&2; exit 1; }
done
[ $((BRANCHES % 100)) = 0 ] || { echo "bench/report_show.sh: --branches must divide by 100 (districts)" >&2; exit 1; }
[ -z "$OLD" ] || [ -x "$OLD" ] || { echo "bench/report_show.sh: $OLD is not an executable" >&2; exit 1; }
PERIOD=2026-11 TARGET_MS=1000 TARGET_MIB=64

log() { echo "bench: $*" >&2; }
cd "$ROOT"
if [ ! -d "$BUILD" ]; then
	log "meson setup build-bench -Dbuildtype=release"
	meson setup "$BUILD" -Dbuildtype=release >&2
fi
log "ninja -C build-bench"
ninja -C "$BUILD" node/strata bench/strata-gen-rollup bench/libstrata-nosync.so >&2
STRATA=$BUILD/node/strata
[ -x /usr/bin/time ] || { log "installing the Debian package time"; apt-get install -y time >&2; }

WORK=$BUILD/show-work
mkdir -p "$WORK"
cleanup() { [ "$KEEP" = 1 ] || [ -n "$CITY" ] || rm -rf "$WORK/net"; }
trap cleanup EXIT
if [ -z "$CITY" ]; then
	rm -rf "$WORK/net"
	log "$BRANCHES branches: setup (strata-gen-rollup under the no-fsync shim, then strata import at the city)"
	LD_PRELOAD=$BUILD/bench/libstrata-nosync.so "$BUILD/bench/strata-gen-rollup" --out "$WORK/net" --districts 100 \
		--branches $((BRANCHES / 100)) --period "$PERIOD" >"$WORK/gen.out"
	"$STRATA" import -d "$WORK/net/city" "$WORK/net/rollup.bundle" >"$WORK/import.out"
	CITY=$WORK/net/city
fi

# Median wall (ms), median CPU (user + sys, ms) and largest peak RSS (MiB)
# of RUNS runs; "n/a" if the command fails (an old binary without --summary).
measure() {
	local walls=() cpus=() rss=() i t0 t1 r u s
	if ! "$@" >/dev/null 2>"$WORK/err.out"; then
		echo "n/a n/a n/a"
		return
	fi
	for i in $(seq "$RUNS"); do
		t0=$EPOCHREALTIME
		/usr/bin/time -f '%M %U %S' -o "$WORK/time.out" "$@" >/dev/null
		t1=$EPOCHREALTIME
		read -r r u s <"$WORK/time.out"
		walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }')")
		cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.0f", (u + s) * 1000 }')")
		rss+=("$r")
	done
	echo "$(median "${walls[@]}") $(median "${cpus[@]}")" \
		"$(printf '%s\n' "${rss[@]}" | sort -g | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }')"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

units=$("$STRATA" report show -d "$CITY" --period "$PERIOD" --summary --json | jq '.total.expected' 2>/dev/null || echo "?")
echo "Strata report show at a city of $BRANCHES branches ($units units expected), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); release build; median of $RUNS after a warm-up; RSS = /usr/bin/time %M"
echo "new: $STRATA (commit $(git -C "$ROOT" rev-parse --short HEAD))${OLD:+; old: $OLD}"
echo
echo "new, unbounded: the same with STRATA_VIEW_RSS_MB=0 (the store's map is never let go: faster, more memory)"
echo
printf '%-28s %14s %8s %14s %8s %14s %8s\n' command "old ms (cpu)" "old MiB" "new ms (cpu)" "new MiB" \
	"unb. ms (cpu)" "unb. MiB"
for args in "--tree" "--tree --json" "--summary" "--summary --json"; do
	# shellcheck disable=SC2086
	read -r nm nc nr <<<"$(measure "$STRATA" report show -d "$CITY" --period "$PERIOD" $args)"
	# shellcheck disable=SC2086
	read -r um uc ur <<<"$(measure env STRATA_VIEW_RSS_MB=0 "$STRATA" report show -d "$CITY" --period "$PERIOD" $args)"
	om=- oc=- or=-
	# shellcheck disable=SC2086
	[ -z "$OLD" ] || read -r om oc or <<<"$(measure "$OLD" report show -d "$CITY" --period "$PERIOD" $args)"
	printf '%-28s %14s %8s %14s %8s %14s %8s\n' "report show $args" "$om ($oc)" "$or" "$nm ($nc)" "$nr" \
		"$um ($uc)" "$ur"
done
echo "targets: under $TARGET_MS ms and under $TARGET_MIB MiB (wall time; CPU user + sys in brackets)"
