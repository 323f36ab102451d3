#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/audit.sh: `strata audit` of a bundle of N one-op change sets (issue
# 5: "at least 70% of the single-core Ed25519 verify rate measured in the
# same run, with both cores used if that helps, and peak memory under 128
# MiB"). A root node is made with `strata init --root`; strata-gen-bundle
# writes the bundle its export would give after N one-op change sets (its
# trust feed, then N up entries, each one member); then, RUNS times, the raw
# single-core libsodium verify rate (bench/raw_verify.c) and right after it
# `strata audit BUNDLE --root KEY`, timed, with /proc/PID/status sampled
# every 20 ms (VmHWM, and the peaks of RssAnon and RssFile). Prints figures;
# never asserts. Run alone or as `bench/run --only audit`.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: bench/audit.sh [--quick] [--n N] [--runs R] [--build DIR] [--keep]

  --quick     100,000 change sets, 1 run
  --n N       change sets in the bundle (default 1000000)
  --runs R    timed audits, each after its own raw verify run (default 3)
  --build DIR build directory (default build-bench, set up --buildtype=release)
  --keep      keep the node and the bundle in DIR/bench-audit/
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-bench
N=1000000
RUNS=3
RAW_SECONDS=2
KEEP=0
n_set=0 runs_set=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--n) N=${2:?--n needs a number}; n_set=1; shift ;;
	--runs) RUNS=${2:?--runs needs a number}; runs_set=1; shift ;;
	--build) BUILD=${2:?--build needs a directory}; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench/audit.sh: unknown argument \"$1\" (see --help)" >&2; exit 1 ;;
	esac
	shift
done
if [ "${QUICK:-0}" = 1 ]; then
	[ "$n_set" = 1 ] || N=100000
	[ "$runs_set" = 1 ] || RUNS=1
	RAW_SECONDS=1
fi
for v in "$N" "$RUNS"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench/audit.sh: \"$v\" is not a positive count" >&2; exit 1; }
done
log() { echo "bench: $*" >&2; }

cd "$ROOT"
if [ ! -d "$BUILD" ]; then
	log "meson setup $BUILD --buildtype=release"
	meson setup "$BUILD" --buildtype=release >&2
fi
log "ninja -C $BUILD"
ninja -C "$BUILD" node/strata bench/strata-raw-verify bench/strata-gen-bundle >&2
STRATA=$BUILD/node/strata
RAW=$BUILD/bench/strata-raw-verify
GEN=$BUILD/bench/strata-gen-bundle

WORK=$BUILD/bench-audit
rm -rf "$WORK"
mkdir -p "$WORK"
cleanup() { [ "$KEEP" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT

"$STRATA" init -d "$WORK/node" --name xiamen --root >/dev/null
KEY=$("$STRATA" id -d "$WORK/node" --json | sed -n 's/.*"key": "\([0-9a-f]*\)".*/\1/p' | head -n1)
log "signing a bundle of $N one-op change sets (setup)"
t0=$EPOCHREALTIME
"$GEN" --node "$WORK/node" --count "$N" --out "$WORK/audit.strata" >/dev/null
gen_wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
BUNDLE_BYTES=$(stat -c %s "$WORK/audit.strata")

# One timed audit with /proc sampling: sets A_WALL, A_HWM, A_ANON, A_FILE
# (KiB), A_CPU (user+sys s), A_ENTRIES.
audit_once() {
	local t0 t1 tpid pid="" a f h key val _ u s
	A_HWM=0 A_ANON=0 A_FILE=0
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%U %S' -o "$WORK/time.out" "$STRATA" audit "$WORK/audit.strata" --root "$KEY" \
		>"$WORK/audit.out" 2>/dev/null &
	tpid=$!
	while [ -z "$pid" ] && [ -r "/proc/$tpid/task/$tpid/children" ]; do
		read -r pid _ <"/proc/$tpid/task/$tpid/children" || true
	done
	while [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; do
		a=0 f=0 h=0
		while read -r key val _; do
			case $key in
			VmHWM:) h=$val ;;
			RssAnon:) a=$val ;;
			RssFile:) f=$val ;;
			esac
		done <"/proc/$pid/status" 2>/dev/null || true
		[ "$h" -le "$A_HWM" ] || A_HWM=$h
		[ "$a" -le "$A_ANON" ] || A_ANON=$a
		[ "$f" -le "$A_FILE" ] || A_FILE=$f
		[ "$a" != 0 ] || [ "$f" != 0 ] || break # a zombie: gone
		sleep 0.02
	done
	wait "$tpid" || { log "strata audit failed:"; cat "$WORK/audit.out" >&2; exit 4; }
	t1=$EPOCHREALTIME
	read -r u s <"$WORK/time.out"
	A_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	A_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	A_ENTRIES=$(sed -n 's/^audited bundle .*: [0-9]* feeds (authors certified), \([0-9]*\) entries, \1 signatures.*; 0 failures$/\1/p' "$WORK/audit.out")
	[ -n "$A_ENTRIES" ] && [ "$A_ENTRIES" -gt "$N" ] || {
		log "strata audit did not audit the $N entries clean:"
		cat "$WORK/audit.out" >&2
		exit 4
	}
}

# The raw rate is measured right before and right after each audit (the
# mean of the two), so both see the same machine; on a machine others load
# the CPU-time figures (per CPU second, from /usr/bin/time and raw_verify's
# process clock) are printed beside the wall-clock ones.
raw_run() { "$RAW" --seconds "$RAW_SECONDS" --json; }
field() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"; }
walls=() raws=() fracs=() hwms=() anons=() files=() cpus=() cfracs=() rawcs=()
for i in $(seq 1 "$RUNS"); do
	log "raw libsodium verify for ${RAW_SECONDS} s, run $i/$RUNS"
	r1=$(raw_run)
	log "strata audit of the bundle ($N change sets), run $i/$RUNS"
	audit_once
	log "raw libsodium verify for ${RAW_SECONDS} s, run $i/$RUNS (after)"
	r2=$(raw_run)
	raw=$(( ($(field verifies_per_s <<<"$r1") + $(field verifies_per_s <<<"$r2")) / 2 ))
	rawc=$(( ($(field verifies_per_cpu_s <<<"$r1") + $(field verifies_per_cpu_s <<<"$r2")) / 2 ))
	walls+=("$A_WALL") raws+=("$raw") hwms+=("$A_HWM") anons+=("$A_ANON") files+=("$A_FILE") cpus+=("$A_CPU")
	fracs+=("$(awk -v n="$A_ENTRIES" -v t="$A_WALL" -v r="$raw" 'BEGIN { printf "%.3f", n / t / r }')")
	cfracs+=("$(awk -v n="$A_ENTRIES" -v t="$A_CPU" -v r="$rawc" 'BEGIN { printf "%.3f", n / t / r }')")
	rawcs+=("$rawc")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
wall=$(median "${walls[@]}")
raw=$(median "${raws[@]}")
frac=$(median "${fracs[@]}")
rate=$(awk -v n="$A_ENTRIES" -v t="$wall" 'BEGIN { printf "%.0f", n / t }')
cpu=$(median "${cpus[@]}")

cat <<EOF

Audit of a bundle ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo),
load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none))
  bundle                                     $N one-op change sets + trust, $(awk -v b="$BUNDLE_BYTES" 'BEGIN { printf "%.1f", b / 1048576 }') MiB (signed in ${gen_wall} s, setup)
  audit wall time (median of $RUNS)              ${wall} s                  runs: ${walls[*]} s
  audit rate                                 ${rate} entries/s          CPU ${cpu} s (user+sys), $(awk -v c="$cpu" -v t="$wall" 'BEGIN { printf "%.2f", c / t }') cores busy
  raw single-core verify (same run)          ${raw} verifies/s         runs: ${raws[*]}
  fraction of raw verify (median of pairs)   $(awk -v f="$frac" 'BEGIN { printf "%.0f%%", f * 100 }')                     target >= 70%; pairs: ${fracs[*]}
  per CPU second: audit / raw verify         $(awk -v n="$A_ENTRIES" -v c="$cpu" 'BEGIN { printf "%.0f", n / c }') / $(median "${rawcs[@]}")              $(awk -v f="$(median "${cfracs[@]}")" 'BEGIN { printf "%.0f%%", f * 100 }') of a core's verify work per entry
  peak memory (VmHWM, largest run)           $(mib "$(maxof "${hwms[@]}")") MiB                 target < 128 MiB
  RssAnon / RssFile (sampled peaks)          $(mib "$(maxof "${anons[@]}")") / $(mib "$(maxof "${files[@]}")") MiB            RssFile: the scratch store's map
EOF
