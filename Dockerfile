# syntax=docker/dockerfile:1
# b24gate runtime image, for builders with access to a registry:
#   docker build -t b24gate:dev .
# Without a registry, scripts/build-image.sh assembles the same image with
# buildah from this machine's files (see deploy/README.md).

# Build stage: the same install and build scripts as the README.
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN bash scripts/install-deps.sh \
 && JOBS="$(nproc)" bash scripts/build.sh b24gate \
 && strip --strip-debug -o /b24gate build/service/b24gate
# The Debian packages owning the libraries the binary loads: the final stage
# installs exactly these (plus what they depend on).
RUN for lib in $(ldd /b24gate | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do \
      dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")"; \
    done | cut -d: -f1 | sort -u > /runtime-packages \
 && cat /runtime-packages

# Runtime stage: the binary, its runtime libraries, CA certificates.
FROM debian:12-slim
COPY --from=build /runtime-packages /tmp/runtime-packages
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates $(cat /tmp/runtime-packages) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages \
 && groupadd --system --gid 10001 b24gate \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/b24gate --no-create-home \
      --shell /usr/sbin/nologin b24gate \
 && install -d -o b24gate -g b24gate -m 0750 /var/lib/b24gate /etc/b24gate
COPY --from=build /b24gate /usr/local/bin/b24gate

ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="b24gate" \
      org.opencontainers.image.description="gRPC gateway for the Bitrix24 REST API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/debian:12-slim"

USER 10001:10001
WORKDIR /var/lib/b24gate
VOLUME /var/lib/b24gate
# gRPC, and Prometheus metrics (--metrics-listen). Without client
# authentication the gateway listens on 127.0.0.1 only: give it clients in its
# config, or --listen 0.0.0.0:50051 --insecure-listen-any where something else
# (a NetworkPolicy) keeps callers out.
EXPOSE 50051 9464
ENTRYPOINT ["/usr/local/bin/b24gate"]
