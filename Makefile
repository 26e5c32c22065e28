# rancher-traefik — `make help` lists the targets.

GO              ?= go
BIN             := bin
TRAEFIK_VERSION := v3.6.12
# TRAEFIK2_VERSION is the peer make bench measures beside us (tools/traefik2).
TRAEFIK2_VERSION := v2.11.53
# COMPOSE_VERSION is the one tools/compose/go.mod pins.
COMPOSE_VERSION := v2.40.3
COMPOSE_V2      := $(BIN)/docker-compose-$(COMPOSE_VERSION)
# PEBBLE_VERSION is the one tools/pebble/go.mod pins.
PEBBLE_VERSION  := v2.10.3
PEBBLE_BINS     := $(BIN)/pebble $(BIN)/pebble-challtestsrv
# The ACME tests find Pebble through these, as the others find Traefik.
PEBBLE_ENV      := PEBBLE_TEST_BINARY=$(CURDIR)/$(BIN)/pebble PEBBLE_CHALLTESTSRV_TEST_BINARY=$(CURDIR)/$(BIN)/pebble-challtestsrv
VERSION         ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS         := -s -w -X rancher-traefik/internal/cli.version=$(VERSION)
STATICCHECK     := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.DEFAULT_GOAL := help
.PHONY: help build traefik traefik2 compose pebble test test-e2e chaos bench lint fmt demo image image-local image-dev push clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# rancher-traefik is the product; rancher-traefik-dev holds the development
# tools (whoami, dev-cert) that the demo and the compose example use, and
# that the product links none of.
build: ## build bin/rancher-traefik and the development tools bin/rancher-traefik-dev (static)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/rancher-traefik ./cmd/rancher-traefik
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(BIN)/rancher-traefik-dev ./cmd/rancher-traefik-dev

traefik: $(BIN)/traefik ## build the pinned Traefik (v3.6.12, tools/traefik) once, into bin/traefik

# The first builds take minutes and go -v would print thousands of lines:
# tools/progress.sh says what is built, how long it usually takes, and how far
# it is (a line every 200 packages, or every 30 s of silence).
$(BIN)/traefik: tools/traefik/go.mod tools/traefik/go.sum
	@CGO_ENABLED=0 GO=$(GO) tools/progress.sh "Traefik $(TRAEFIK_VERSION)" "6 to 13 minutes" tools/traefik github.com/traefik/traefik/v3/cmd/traefik -- \
		$(GO) build -C tools/traefik -v -trimpath \
		-ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$(TRAEFIK_VERSION)" \
		-o $(CURDIR)/$(BIN)/traefik github.com/traefik/traefik/v3/cmd/traefik
	@touch $@

traefik2: $(BIN)/traefik2 ## build Traefik v2.11.53 (tools/traefik2), the peer make bench measures beside us, into bin/traefik2

$(BIN)/traefik2: tools/traefik2/go.mod tools/traefik2/go.sum
	@CGO_ENABLED=0 GO=$(GO) tools/progress.sh "Traefik $(TRAEFIK2_VERSION)" "6 to 13 minutes" tools/traefik2 github.com/traefik/traefik/v2/cmd/traefik -- \
		$(GO) build -C tools/traefik2 -v -trimpath \
		-ldflags "-s -w -X github.com/traefik/traefik/v2/pkg/version.Version=$(TRAEFIK2_VERSION)" \
		-o $(CURDIR)/$(BIN)/traefik2 github.com/traefik/traefik/v2/cmd/traefik
	@touch $@

compose: $(COMPOSE_V2) ## build Compose v2 (v2.40.3) from the Go module proxy, to test the compose example with it

$(COMPOSE_V2): tools/compose/go.mod tools/compose/go.sum
	@CGO_ENABLED=0 GO=$(GO) tools/progress.sh "Compose $(COMPOSE_VERSION)" "about 4 minutes" tools/compose github.com/docker/compose/v2/cmd -- \
		$(GO) build -C tools/compose -v -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$(COMPOSE_VERSION)" -o $(CURDIR)/$@ github.com/docker/compose/v2/cmd
	@touch $@

pebble: $(PEBBLE_BINS) ## build Pebble (v2.10.3, tools/pebble), Let's Encrypt's test ACME server, and its DNS server once, for the ACME tests

$(BIN)/pebble $(BIN)/pebble-challtestsrv: $(BIN)/%: tools/pebble/go.mod tools/pebble/go.sum
	@CGO_ENABLED=0 GO=$(GO) tools/progress.sh "$* $(PEBBLE_VERSION)" "under a minute" tools/pebble github.com/letsencrypt/pebble/v2/cmd/$* -- \
		$(GO) build -C tools/pebble -v -trimpath -ldflags "-s -w -X main.version=$(PEBBLE_VERSION)" \
		-o $(CURDIR)/$@ github.com/letsencrypt/pebble/v2/cmd/$*
	@touch $@

test: build traefik pebble ## run every test: formatting, vet, unit, integration and end to end (real Traefik; Docker and both Composes where a daemon answers)
	@unformatted="$$(gofmt -l cmd internal templates)"; if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@if docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory compose; fi
	$(GO) vet ./...
	$(GO) test -C tools/traefik -count=1 ./labelschema # internal/routes/*_gen.go are what the pinned Traefik's types give
	env $$([ -x $(COMPOSE_V2) ] && echo COMPOSE_V2_BINARY=$(CURDIR)/$(COMPOSE_V2)) TRAEFIK_TEST_BINARY=$(CURDIR)/$(BIN)/traefik $(PEBBLE_ENV) $(GO) test -count=1 -timeout 30m ./...

test-e2e: build traefik pebble ## run only the end-to-end tests
	env $$([ -x $(COMPOSE_V2) ] && echo COMPOSE_V2_BINARY=$(CURDIR)/$(COMPOSE_V2)) TRAEFIK_TEST_BINARY=$(CURDIR)/$(BIN)/traefik $(PEBBLE_ENV) $(GO) test -count=1 -timeout 30m -v ./internal/e2e/

chaos: build traefik ## run the chaos suite's long form (30 s outages, 340 kill -9, …) and print its table to tmp/chaos.md; `make test` runs the short form
	@mkdir -p tmp
	CHAOS=full CHAOS_REPORT=$(CURDIR)/tmp/chaos.md TRAEFIK_TEST_BINARY=$(CURDIR)/$(BIN)/traefik $(GO) test -count=1 -timeout 60m -run '^TestChaos$$' -v ./internal/e2e/

# BENCH_CHANGES is how many changes the change→live benchmarks make
# (BenchmarkChangeToLiveScale, BenchmarkTraefikApply at most 10): 30 unless
# -benchtime=Nx gives N (CI: -benchtime=1x, one change each); set, it wins.
# BENCH_GAP (a duration, e.g. 2.5s) pauses before each change of a
# change→live series: longer than providersThrottleDuration, no change waits
# out the last one's throttle. None by default.
# BENCH_SETTINGS (e.g. 25ms/50ms,0s/50ms) picks the debounce/throttle pairs
# of BenchmarkChangeToLiveSettings; all of them by default.
# The peer (Traefik v2) runs in a network namespace: root and ip, or skipped.
BENCHFLAGS    ?=
BENCH_CHANGES ?=
BENCH_GAP     ?=
BENCH_SETTINGS ?=
bench: build traefik traefik2 ## run the benchmarks and print their figures, beside Traefik v2's Rancher provider (BENCHFLAGS passes go test flags, e.g. -benchtime=30x; BENCH_CHANGES=N changes per change→live series, 30 by default)
	BENCH_CHANGES=$(BENCH_CHANGES) BENCH_GAP=$(BENCH_GAP) BENCH_SETTINGS=$(BENCH_SETTINGS) TRAEFIK_TEST_BINARY=$(CURDIR)/$(BIN)/traefik TRAEFIK2_TEST_BINARY=$(CURDIR)/$(BIN)/traefik2 $(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 90m $(BENCHFLAGS) ./...
	@# Traefik's own route insertion, v3.6.12 beside v2.11.53 (tools/*/muxbench; its test checks the muxer it times routes)
	$(GO) test -C tools/traefik -run 'TestAddRouteRoutes' -bench . -benchmem -count=1 $(BENCHFLAGS) ./muxbench
	$(GO) test -C tools/traefik2 -run 'TestAddRouteRoutes' -bench . -benchmem -count=1 $(BENCHFLAGS) ./muxbench

lint: ## gofmt, go vet and staticcheck
	@unformatted="$$(gofmt -l cmd internal templates)"; if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fmt: ## format the code
	gofmt -w cmd internal templates

IMAGE ?= rancher-traefik
image: ## build the image for users from official images (needs Docker Hub): rancher-traefik:VERSION
	docker build -t $(IMAGE):$(VERSION) --build-arg VERSION=$(VERSION) .

# IMAGE_CONTEXT is where image-local prepares the build context (the tests
# give a directory of their own, which they remove).
IMAGE_CONTEXT ?= tmp/image
image-local: build traefik ## build the same image FROM scratch out of local files (no registry needed): rancher-traefik:local
	examples/image-context.sh $(IMAGE_CONTEXT) $(BIN)/rancher-traefik $(BIN)/traefik
	docker build -f Dockerfile.local --build-arg VERSION=$(VERSION) -t $(IMAGE):local $(IMAGE_CONTEXT)

# The compose example's backends: rancher-traefik-dev (whoami) and
# rancher-traefik (for the health check), FROM scratch; no registry needed.
# DEV_CONTEXT is where its build context is prepared.
DEV_IMAGE   ?= $(IMAGE)-dev
DEV_CONTEXT ?= tmp/image-dev
image-dev: build ## build the compose example's backend image (whoami, not for production): rancher-traefik-dev:local
	rm -rf $(DEV_CONTEXT)
	mkdir -p $(DEV_CONTEXT)
	cp $(BIN)/rancher-traefik $(BIN)/rancher-traefik-dev examples/Dockerfile.dev $(DEV_CONTEXT)/
	docker build -f $(DEV_CONTEXT)/Dockerfile.dev --build-arg VERSION=$(VERSION) -t $(DEV_IMAGE):local $(DEV_CONTEXT)

# The registry your Rancher hosts pull from; TAG is the local image to push
# (make image's VERSION, or local for make image-local's).
REGISTRY ?=
TAG      ?= $(VERSION)
push: ## push the image to your registry as REGISTRY/rancher-traefik:VERSION (make push REGISTRY=registry.example.com:5000 VERSION=v1.0.0)
	@[ -n "$(REGISTRY)" ] || { echo "make push needs REGISTRY, the registry your Rancher hosts pull from: make push REGISTRY=registry.example.com:5000 VERSION=v1.0.0" >&2; exit 2; }
	docker tag $(IMAGE):$(TAG) $(REGISTRY)/$(IMAGE):$(VERSION)
	docker push $(REGISTRY)/$(IMAGE):$(VERSION)
	@echo "pushed: answer the catalog's Image question with $(REGISTRY)/$(IMAGE):$(VERSION)"

demo: build traefik ## the one-command demo: emulator, two backends, rancher-traefik + Traefik on ports 8080/8443/8000
	examples/demo.sh

clean: ## remove build output (keeps Go's build cache, so Traefik rebuilds in seconds)
	rm -rf $(BIN) tmp
