# Qubot Deploy's control plane image: built JavaScript (`pnpm build`) run with plain node, production
# dependencies only, as a non-root user. One image for every role: the Helm chart passes
# `--role api` or `--role worker` (docs/kubernetes.md). Checked by test/deploy-dockerfile.test.ts.

# 1. build: every dependency (TypeScript, Prisma's generator, Vite), then `pnpm build` → dist/.
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /src
RUN npm install --global pnpm@12.4.2
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build

# 2. prod-deps: the same workspace with production dependencies only (no TypeScript, tsx, Vite,
# Vitest, Prisma CLI). Install scripts are skipped: the Prisma client is already compiled into
# packages/db/dist by stage 1.
FROM node:20.20.2-bookworm-slim AS prod-deps
WORKDIR /src
RUN npm install --global pnpm@12.4.2
COPY --from=build /src/package.json /src/pnpm-lock.yaml /src/pnpm-workspace.yaml ./
COPY --from=build /src/apps/api/package.json apps/api/
COPY --from=build /src/apps/cli/package.json apps/cli/
COPY --from=build /src/packages/api-contract/package.json packages/api-contract/
COPY --from=build /src/packages/client/package.json packages/client/
COPY --from=build /src/packages/core/package.json packages/core/
COPY --from=build /src/packages/db/package.json packages/db/
COPY --from=build /src/packages/runtime/package.json packages/runtime/
RUN pnpm install --frozen-lockfile --prod --ignore-scripts \
      --filter @qubot/api... --filter @qubot/cli...

# 3. runtime: node, the production node_modules, the dist/ folders, the dashboard and the migrations.
FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--conditions=qubot-dist \
    HOST=0.0.0.0 \
    PORT=8080 \
    QUBOT_DATA_DIR=/data
WORKDIR /app
RUN groupadd --system --gid 10001 qubot \
 && useradd --system --uid 10001 --gid qubot --home-dir /app --shell /usr/sbin/nologin qubot \
 && mkdir -p /data && chown qubot:qubot /data
COPY --from=prod-deps /src/ ./
COPY --from=build /src/apps/api/dist apps/api/dist
COPY --from=build /src/apps/cli/dist apps/cli/dist
COPY --from=build /src/apps/cli/bin/qubot-dist.mjs apps/cli/bin/
COPY --from=build /src/apps/web/dist apps/web/dist
COPY --from=build /src/packages/api-contract/dist packages/api-contract/dist
COPY --from=build /src/packages/client/dist packages/client/dist
COPY --from=build /src/packages/core/dist packages/core/dist
COPY --from=build /src/packages/db/dist packages/db/dist
COPY --from=build /src/packages/runtime/dist packages/runtime/dist
COPY --from=build /src/prisma/migrations prisma/migrations
USER 10001:10001
EXPOSE 8080
# Kubernetes uses the chart's probes (/readyz, /healthz); this serves `docker run` and Compose.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "apps/api/dist/main.js"]
CMD ["--role", "all"]
