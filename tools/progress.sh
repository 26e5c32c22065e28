#!/usr/bin/env bash
# tools/progress.sh WHAT DURATION DIR PKG -- BUILD COMMAND...
#
# Runs a long `go build -v` (make traefik, make compose) and shows its
# progress in a form that reads well in a terminal and in a CI log alike:
# no TTY tricks, one line per step. First the packages to build are listed
# (`go list -deps`, which downloads the modules: a line every 50 modules),
# then BUILD COMMAND runs (with -v, which names each package it compiles: a
# line every 200 packages, out of the total listed). A line also comes at
# least every PROGRESS_INTERVAL seconds (30), so a slow stretch does not look
# like a hang. Every other line (compiler and network errors) passes through
# unchanged, and the exit code is the failing command's.
set -uo pipefail

what=$1 duration=$2 dir=$3 pkg=$4
shift 4
[ "${1:-}" = -- ] && shift
GO=${GO:-go}
interval=${PROGRESS_INTERVAL:-30}
start=$SECONDS
modules=0 packages=0 total= last=$SECONDS

say() {
	printf '  %s: %s (%ds)\n' "$what" "$*" $((SECONDS - start))
	last=$SECONDS
}

status() {
	if [ -n "$total" ]; then
		echo "$packages of at most $total packages compiled"
	else
		echo "$modules modules downloaded"
	fi
}

# count reads a go command's output and prints progress in its place.
count() {
	local line buf="" eof=""
	while [ -z "$eof" ]; do
		if IFS= read -r -t "$interval" line; then
			:
		elif [ $? -gt 128 ]; then # silence: read stopped waiting
			buf=$buf$line
			say "still working: $(status)"
			continue
		else
			eof=1
		fi
		line=$buf$line buf=""
		case $line in
		"") ;;
		"go: downloading "*)
			modules=$((modules + 1))
			[ $((modules % 50)) -ne 0 ] || say "$modules modules downloaded"
			;;
		*[!A-Za-z0-9._~/+-]*) # not an import path: an error, shown as it is
			printf '%s\n' "$line"
			;;
		*)
			packages=$((packages + 1))
			[ $((packages % 200)) -ne 0 ] || say "$(status)"
			;;
		esac
		[ $((SECONDS - last)) -lt "$interval" ] || say "still working: $(status)"
	done
	# The counts live in this side of the pipeline: report them from here.
	if [ -z "$total" ] && [ "$modules" -gt 0 ]; then
		say "$modules modules downloaded"
	elif [ -n "$total" ]; then
		say "$(status)"
	fi
}

echo "building $what from the Go module proxy: the first time takes $duration on 2 cores, seconds after (Go's build cache keeps it)"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
"$GO" list -C "$dir" -deps "$pkg" 2>&1 >"$list" | count
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
	echo "$what: listing the packages to build failed (exit $rc)" >&2
	exit "$rc"
fi
total=$(wc -l <"$list" | tr -d ' ')
say "compiling up to $total packages"
"$@" 2>&1 | count
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && say "done (what was not compiled came from Go's build cache)"
exit "$rc"
