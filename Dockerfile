# shipwatch worker image. Built by docker-compose.yml; not built on the development machines of
# this repository (they have no Docker engine) — test/unit/compose.test.ts checks its shape.

# --- build: compile TypeScript with the dev dependencies
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY examples ./examples
COPY tools ./tools
RUN npm run build

# --- runtime: production dependencies, the compiled worker, pg_dump for database backups
FROM node:20-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
USER node
# Worker metrics and health (see docs/monitoring.md).
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=3s --retries=3 CMD node -e "fetch('http://127.0.0.1:9464/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "dist/src/worker.js"]
