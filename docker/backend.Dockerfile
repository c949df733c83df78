# Go backend image: build with the Go toolchain, run as non-root in a small
# runtime image. Base images are build args so teams pin their own (by tag or
# digest), e.g. --build-arg RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot
ARG GO_IMAGE=golang:1.26
ARG RUNTIME_IMAGE=debian:bookworm-slim

# The build stage runs on the build machine's platform and cross-compiles for
# the target one, so multi-platform images need no emulation.
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
# Dependencies first, so a code change does not re-download modules.
COPY go.mod go.sum* ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG MAIN_PACKAGE=.
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o /out/server ${MAIN_PACKAGE}

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/server /usr/local/bin/server
# 65532 is the conventional "nonroot" uid (as in distroless).
USER 65532:65532
ENV PORT=9889
EXPOSE 9889
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/server", "-healthcheck"]
ENTRYPOINT ["/usr/local/bin/server"]
