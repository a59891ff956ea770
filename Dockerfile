# syntax=docker/dockerfile:1

# billingd container image.
#
#   docker build -t billingd:local .
#
# The binary is static (CGO_ENABLED=0) and embeds its migrations, openapi.yaml
# and docs assets, so the runtime image only needs the binary itself.

# The official golang images set GOTOOLCHAIN=local, so this tag must resolve to
# a Go release >= the `go` line in go.mod (1.26.8).
FROM golang:1.26-bookworm AS build
WORKDIR /src

# Dependencies first: this layer is reused until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/billingd ./cmd/billingd

# distroless/static: no shell, no package manager; the :nonroot tag runs as
# uid/gid 65532. USER is repeated numerically so Kubernetes' runAsNonRoot check
# can verify it.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/billingd /billingd
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/billingd"]
CMD ["serve"]
