#!/usr/bin/env bash
# The one-command demo (make demo): the metadata emulator with a sample
# stack, two backends, and rancher-traefik + Traefik on unprivileged ports,
# all on this machine, no Docker, no Rancher. Ctrl-C stops everything, and
# the demo exits 0: a stop you asked for is no error.
#
#   examples/demo.sh            start
#   examples/demo.sh scale N    change the stack to N whoami containers (1 or 2:
#                               the demo runs two backends)
#
# bin/traefik, built from the Go module proxy, has no dashboard UI: the demo
# serves the API alone (TRAEFIK_ADMIN_DASHBOARD=false).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${DEMO_DIR:-$root/tmp/demo}
bin=${RT_BIN:-$root/bin/rancher-traefik}
# The backends and the throw-away certificate come from the development
# tools, which the product binary does not carry.
dev=${RT_DEV_BIN:-$root/bin/rancher-traefik-dev}
traefik=${TRAEFIK_BINARY:-$root/bin/traefik}
http_port=${DEMO_HTTP_PORT:-8080}
https_port=${DEMO_HTTPS_PORT:-8443}
admin_port=${DEMO_ADMIN_PORT:-8000}
meta_port=${DEMO_METADATA_PORT:-8090}
backend_port=${DEMO_BACKEND_PORT:-9000}

stack() { # the sample stack with $1 whoami containers
	cat <<YAML
stacks:
  - name: demo
    services:
      - name: whoami
        health_check: true
        labels:
          traefik.enable: "true"
          traefik.port: "$backend_port"
          traefik.frontend.rule: Host:whoami.example.com
        containers:
YAML
	for n in $(seq 1 "$1"); do
		printf '          - ip: 127.0.0.%d\n' $((100 + n))
	done
}

backends=2 # backend-1 on 127.0.0.101, backend-2 on 127.0.0.102

if [ "${1:-}" = scale ]; then
	n=${2:-}
	case $n in
	"" | *[!0-9]* | 0*)
		echo "usage: $0 scale N, N from 1 to $backends (got \"$n\")" >&2
		exit 2
		;;
	esac
	if [ "${#n}" -gt 3 ] || [ "$n" -gt "$backends" ]; then
		echo "$0: cannot scale to $n: the demo runs $backends backends (127.0.0.101 and 127.0.0.102), so N is 1 to $backends; more containers would only get 502s" >&2
		exit 2
	fi
	[ -f "$dir/stack.yml" ] || { echo "no demo is running in $dir" >&2; exit 1; }
	stack "$n" >"$dir/stack.yml.tmp"
	mv "$dir/stack.yml.tmp" "$dir/stack.yml"
	echo "stack scaled to $n container(s); the routes follow within a second"
	exit 0
fi

mkdir -p "$dir/secrets"
stack "$backends" >"$dir/stack.yml"
"$dev" dev-cert --dir "$dir/secrets" --host whoami.example.com --host '*.example.com' --host localhost >/dev/null

pids=()
cleanup() {
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
# Ctrl-C (or a TERM) is how the demo is meant to end: exit 0, after cleanup.
trap 'exit 0' INT TERM

"$dev" whoami --listen "127.0.0.101:$backend_port" --name backend-1 2>/dev/null & pids+=($!)
"$dev" whoami --listen "127.0.0.102:$backend_port" --name backend-2 2>/dev/null & pids+=($!)
"$bin" metadata-server --answers "$dir/stack.yml" --listen "127.0.0.1:$meta_port" 2>"$dir/metadata-server.log" & pids+=($!)

cat <<TXT

rancher-traefik demo: Traefik on 127.0.0.1 (HTTP $http_port, HTTPS $https_port, admin $admin_port),
the metadata emulator on $meta_port serving $dir/stack.yml, two backends.

Try, in another terminal:
  curl -k --resolve whoami.example.com:$https_port:127.0.0.1 https://whoami.example.com:$https_port/
  curl -si --resolve whoami.example.com:$http_port:127.0.0.1 http://whoami.example.com:$http_port/ | head -3
  curl -s http://127.0.0.1:$admin_port/api/http/routers
Watch the routes follow scaling:
  $0 scale 1
  $0 scale 2
Ctrl-C stops everything.

TXT

TRAEFIK_HOME="$dir/home" TRAEFIK_SECRETS_DIR="$dir/secrets" \
TRAEFIK_SSL_CERT=cert.pem TRAEFIK_SSL_PRIVATE_KEY=key.pem \
TRAEFIK_BIND_ADDRESS=127.0.0.1 TRAEFIK_HTTP_PORT="$http_port" TRAEFIK_HTTPS_PORT="$https_port" TRAEFIK_ADMIN_PORT="$admin_port" \
TRAEFIK_RANCHER_MODE=metadata TRAEFIK_RANCHER_METADATA_URL="http://127.0.0.1:$meta_port/2016-07-29" \
TRAEFIK_RANCHER_DOMAIN=example.com TRAEFIK_BINARY="$traefik" TRAEFIK_GRACE_TIMEOUT=2s \
TRAEFIK_ADMIN_DASHBOARD=false \
	"$bin" run &
pids+=($!)
wait "${pids[-1]}"
