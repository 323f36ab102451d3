#!/bin/sh
# SPDX-License-Identifier: MIT
# The interop test (meson: interop_go, registered only when `go` is found):
# builds check_go.go offline against Debian's golang-golang-x-mod-dev
# (GOPATH=/usr/share/gocode, GO111MODULE=off), has interop_dump write what
# Strata produces, and lets Go's golang.org/x/mod/sumdb check it.
# usage: run.sh GO INTEROP_DUMP SRCDIR BUILDDIR
set -eu
go=$1 dump=$2 src=$3 build=$4
tmp=$(mktemp -d /tmp/strata-interop-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$build/gocache" "$tmp/store"
GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOCACHE="$build/gocache" GOPROXY=off \
	"$go" build -o "$tmp/check_go" "$src/check_go.go"
"$dump" "$tmp/store" > "$tmp/dump.txt"
"$tmp/check_go" "$tmp/dump.txt"
