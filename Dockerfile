# The control plane: one image for the api, the workers and the migration, chosen by the command (package.json's
# scripts): `bun server/api.ts` (the default), `bun workers/main.ts`, `bun server/migrate.ts`. PostgreSQL is never
# embedded here: set DATABASE_URL (and DATABASE_OWNER_URL for the migration). deploy/kubernetes/ runs it.
#
# Build from the repository root: docker build -t <registry>/qdz/control-plane:<tag> .
# The sidecar agent has its own image: pods/agent/Dockerfile (same Bun, same tag).

# Bun as package.json's `bun` dependency pins it in package-lock.json; keep the three FROMs and pods/agent/Dockerfile
# in step with it.
FROM oven/bun:1.4.5 AS web
WORKDIR /build
COPY package.json package-lock.json ./
# Bun installs from package-lock.json (it migrates it in memory); frozen, a lockfile out of step with package.json
# fails the build. No install scripts: the image's own Bun stands in for the `bun` package's binary, and the embedded
# PostgreSQL's binaries are never used in a container.
RUN bun install --frozen-lockfile --ignore-scripts
COPY . .
RUN bun src/platform/web-build.ts --force

FROM oven/bun:1.4.5 AS deps
WORKDIR /build
COPY package.json package-lock.json ./
RUN bun install --frozen-lockfile --production --ignore-scripts

FROM oven/bun:1.4.5-slim
WORKDIR /app
# Bun runs the TypeScript sources as they are (no bundle): the api, the workers and the migration import the same
# modules, and the migrations' SQL and the catalog are read from db/ and src/ at run time. Owned by root, so the
# process (user bun) cannot change its own code. NODE_ENV stays unset: Elysia's "production" changes its validation
# errors, and the tests run without it.
COPY --from=deps /build/node_modules ./node_modules
COPY . .
COPY --from=web /build/web/build ./web/build
USER bun
EXPOSE 3000
ENTRYPOINT ["bun"]
CMD ["server/api.ts"]
