# Mailpen as a container: the build stage compiles the server (tsc) and the UI (vite) with every dev
# dependency; the runtime stage holds only production dependencies and dist/. No curl, no shell
# scripts: the health check is node itself.
# The image listens on all interfaces (a container's loopback is unreachable from the host); the
# CLI's own default stays 127.0.0.1. Every MAILPEN_* variable configures it, as for the CLI.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
# Everything .dockerignore lets through, so the image builds whatever `npm run build` builds.
COPY . .
RUN npm run build

FROM node:20-bookworm-slim
# glibc's malloc: two arenas rather than one per thread (the parse and check workers), and buffers of
# 128 KB and more always mapped on their own, so a freed large message goes back to the system
# instead of staying in a fragmented heap. bench soak (64 MB budget, 2 min, one run each, highest
# RSS / after GC): 482 / 349 MB with the arena bound alone, 448 / 291 MB with the threshold too.
ENV MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072
# Listening on 0.0.0.0 would switch off the Host check against DNS rebinding, which matters most
# here: the usual `-p 127.0.0.1:8025:8025` puts the inbox on the host's loopback, in reach of any
# web page that re-points its own name there. Naming the compose service keeps the check on while
# other containers use http://mailpen:8025 (or http://mailpit:8025, http://mailhog:8025 in a compose file
# switched from those images); localhost and IP addresses are always answered.
ENV NODE_ENV=production \
    MAILPEN_SMTP_ADDR=0.0.0.0:1025 \
    MAILPEN_HTTP_ADDR=0.0.0.0:8025 \
    MAILPEN_ALLOWED_HOSTS=mailpen,mailpit,mailhog
WORKDIR /app
COPY package.json package-lock.json ./
# No production dependency has an install script; refusing them keeps the runtime layer to plain files.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /src/dist ./dist
# Files stay owned by root: the server only reads them.
USER node
EXPOSE 1025 8025
# server/healthcheck.ts finds the HTTP address as the server did: MAILPEN_HTTP_ADDR, or a flag after the
# image name (`docker run mailpen --http-addr 0.0.0.0:9000`), read from PID 1's command line.
# Every 5 s: compose starts a `depends_on: service_healthy` app only after the first pass (the
# --start-interval that would shorten only the start is not understood by every builder yet).
HEALTHCHECK --interval=5s --timeout=4s --start-period=30s --retries=3 \
  CMD ["node", "dist/server/healthcheck.js", "/proc/1/cmdline"]
# Exec form: node is PID 1 and gets SIGTERM itself; server/cli.ts closes SMTP then HTTP and exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/server/cli.js"]
