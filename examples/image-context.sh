#!/usr/bin/env bash
# Prepares the build context of Dockerfile.local: image-context.sh DIR RANCHER_TRAEFIK TRAEFIK
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$1 rt=$2 traefik=$3
for f in /etc/ssl/certs/ca-certificates.crt /usr/share/zoneinfo/UTC; do
	[ -e "$f" ] || { echo "$f is missing: apt-get install ca-certificates tzdata" >&2; exit 1; }
done
for b in "$rt" "$traefik"; do
	if grep -q /lib64/ld-linux "$b"; then
		echo "$b is dynamically linked; a FROM scratch image needs it static (CGO_ENABLED=0)" >&2
		exit 1
	fi
done
rm -rf "$dir"
mkdir -p "$dir"
cp "$rt" "$dir/rancher-traefik"
cp "$traefik" "$dir/traefik"
cp /etc/ssl/certs/ca-certificates.crt "$dir/"
cp -rL /usr/share/zoneinfo "$dir/zoneinfo"
cp -r "$root/rootfs" "$dir/rootfs"
cp "$root/Dockerfile.local" "$dir/Dockerfile.local"
