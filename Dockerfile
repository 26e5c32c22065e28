# rancher-traefik: the image for users, built from official images.
#   docker build -t rancher-traefik --build-arg VERSION=v1.0.0 .
# Where no registry is reachable, `make image-local` builds the same final
# image FROM scratch out of local files (Dockerfile.local).
ARG GO_VERSION=1.26
ARG TRAEFIK_VERSION=v3.6.12

FROM golang:${GO_VERSION}-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd cmd
COPY internal internal
COPY templates templates
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X rancher-traefik/internal/cli.version=${VERSION}" \
    -o /out/rancher-traefik ./cmd/rancher-traefik

# Traefik with its dashboard UI (a build from the Go module has none).
FROM traefik:${TRAEFIK_VERSION} AS traefik

FROM alpine:3.22 AS base
RUN apk add --no-cache ca-certificates tzdata

FROM scratch
COPY --from=base /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=base /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=traefik /usr/local/bin/traefik /usr/local/bin/traefik
COPY --from=build /out/rancher-traefik /usr/local/bin/rancher-traefik
COPY rootfs/ /
ENV PATH=/usr/local/bin TRAEFIK_BINARY=/usr/local/bin/traefik
EXPOSE 80 443 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["/usr/local/bin/rancher-traefik", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/rancher-traefik"]
CMD ["run"]
ARG VERSION=dev
LABEL org.opencontainers.image.title="rancher-traefik" \
      org.opencontainers.image.description="Publish Rancher 1.x services through Traefik v3" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"
