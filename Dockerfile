# syntax=docker/dockerfile:1
# Multi-stage: production dependencies only in the final image, which runs as the non-root `node`
# user. The `check` stage type-checks the sources so a broken build fails here, not at start-up.

FROM node:20-bookworm-slim AS base
WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# better-sqlite3 is a native addon: when no prebuilt binary can be fetched it compiles.
FROM base AS build-tools
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*

FROM build-tools AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM build-tools AS check
COPY package.json package-lock.json ./
RUN npm ci --include=dev
COPY . .
RUN npm run typecheck && touch /app/.checked

FROM base AS runtime
COPY --from=deps /app/node_modules ./node_modules
COPY --from=check /app/.checked ./.checked
COPY package.json tsconfig.json ./
COPY src ./src
COPY sample-upstream ./sample-upstream
RUN mkdir -p exports data && chown node:node exports data
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/server.ts"]
