# Build the manager binary.
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev

WORKDIR /workspace
# Cache modules before copying the sources, so that a code change does not re-download them.
COPY go.mod go.sum ./
RUN go mod download

# The module's Go sources, whole: .dockerignore keeps the build context to them (no tests, tools, manifests or
# docs), so a new file or package needs no change here. test/dockerfile builds the binary from exactly this.
COPY . .

RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o manager .

# A static binary on distroless, as a non-root user: nothing else in the image to exploit.
FROM gcr.io/distroless/static:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="tenant-operator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/tenant-operator/tenant-operator"
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532

ENTRYPOINT ["/manager"]
