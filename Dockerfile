# Production image: build with the Swift toolchain, run on slim Debian with only the C libraries.
# No Docker engine runs on the development machines of this project: Tests/AppTests/DockerfileTests.swift
# checks the two apt-get lists against Package.swift's system libraries and `ldd` of the binary.
FROM swift:6.3-bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpq-dev libcurl4-openssl-dev libssl-dev libargon2-dev libqrencode-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Plugins ./Plugins
COPY Sources ./Sources
COPY Tests ./Tests
# The commit for `pickupbox version`: Plugins/BuildInfo asks git at build time. Without .git in the
# context (a source tarball), build with --build-arg PICKUPBOX_COMMIT=<commit> and drop this line.
COPY .git ./.git
ARG PICKUPBOX_COMMIT=
RUN swift build -c release --product pickupbox --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/pickupbox" /out/pickupbox \
    && cp -R "$(swift build -c release --show-bin-path)/pickupbox_App.resources" /out/

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpq5 libcurl4 libssl3 libargon2-1 libqrencode4 zlib1g ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app pickupbox
WORKDIR /app
COPY --from=build /out/pickupbox /usr/local/bin/pickupbox
# The web frontend travels next to the binary (it looks there, never in the working directory).
COPY --from=build /out/pickupbox_App.resources /usr/local/bin/pickupbox_App.resources
# The migrations too: the binary looks in ../share/pickupbox/Migrations (and next to itself), wherever it is started.
COPY Migrations /usr/local/share/pickupbox/Migrations
COPY openapi.yaml ./
USER pickupbox
ENV PICKUPBOX_ENV=production PICKUPBOX_HOST=0.0.0.0 PICKUPBOX_PORT=8080
# glibc malloc: two arenas, megabyte buffers from mmap (returned when freed). `pickupbox serve` sets the
# same itself; here it also covers the operator commands. See BENCHMARKS.md "Memory after large bodies".
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072
EXPOSE 8080
# The binary asks its own /health (PICKUPBOX_PORT): no shell, no curl (dash has no /dev/tcp).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD ["pickupbox", "healthcheck"]
ENTRYPOINT ["pickupbox"]
CMD ["serve"]
