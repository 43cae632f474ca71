# syntax=docker/dockerfile:1
# The Tideway image: one image, every service is `tideway <service>`.
#   docker build -t tideway .
#   docker run --rm tideway cdc --help
#
# NODE_VERSION: the major version of .nvmrc, Node 24 LTS — the one runtime the tests and
# benchmarks run on (the CLI refuses older lines).
ARG NODE_VERSION=24

# ---- build: full dev dependencies, compile TypeScript, then drop dev dependencies ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# @confluentinc/kafka-javascript (the Kafka client's native addon) is built from source, linking
# Debian's SASL, zstd, lz4, curl and OpenSSL; node-gyp takes the headers of this image's Node.
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends python3 make g++ libsasl2-dev libzstd-dev liblz4-dev libcurl4-openssl-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
ENV CKJS_LINKING=dynamic npm_config_nodedir=/usr/local
# Manifests first so the dependency layer is cached until a package.json or the lockfile changes.
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY services/runtime/package.json services/runtime/
COPY services/cdc/package.json services/cdc/
COPY services/dwh-loader/package.json services/dwh-loader/
COPY services/alerting/package.json services/alerting/
COPY services/demo/package.json services/demo/
COPY services/kinesis-api/package.json services/kinesis-api/
COPY bridge/package.json bridge/
# patches/: fixes to dependencies (patch-package), applied here since --ignore-scripts skips postinstall.
# Of the install scripts only the Kafka addon's build is needed; it is run explicitly.
COPY patches patches
RUN npm ci --ignore-scripts && npx patch-package --error-on-fail \
 && npm rebuild @confluentinc/kafka-javascript \
 && rm -rf node_modules/@confluentinc/kafka-javascript/build/Release/obj.target node_modules/@confluentinc/kafka-javascript/deps/librdkafka
COPY bin bin
COPY services services
COPY bridge bridge
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && find services bridge -mindepth 2 -maxdepth 2 \( -name src -o -name test -o -name 'tsconfig*.json' -o -name '*.tsbuildinfo' \) -exec rm -rf {} + \
 && find services bridge -name '*.map' -delete

# ---- runtime: production dependencies and compiled code only, non-root ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="tideway" \
      org.opencontainers.image.description="Self-hosted streaming ETL on Apache Kafka: CDC, warehouse loading, alerting, and a bridge to Kinesis, Firehose and S3" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    # In a container the metrics/health endpoint must be reachable from outside the container.
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9464 \
    # Node 24's V8 grows the young generation far beyond earlier lines; 16 MiB semi-spaces keep
    # cdc's peak RSS at ~255 MiB instead of 350-400 at the same throughput (docs/benchmarks.md).
    NODE_OPTIONS=--max-semi-space-size=16 \
    # glibc gives each thread that allocates its own malloc arena; librdkafka runs a thread per
    # broker and queue. Two arenas keep kinesis-api's peak RSS ~20 MiB lower (docs/benchmarks.md).
    MALLOC_ARENA_MAX=2
WORKDIR /app
# The shared libraries the Kafka addon links (the build stage's -dev packages, runtime halves).
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends libsasl2-2 libzstd1 liblz4-1 libcurl4 libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build --chown=root:root /app /app
# A numeric non-root user, so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
USER 10001:10001
EXPOSE 9464
# The process does its own SIGTERM handling; tini is not needed (node is PID 1 but handles signals it registers).
ENTRYPOINT ["node", "/app/bin/tideway.js"]
CMD ["--help"]
