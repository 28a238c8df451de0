# Fleetwatch server image: the API, the dashboard and the MQTT broker in one process.
# It expects DATABASE_URL (docker-compose.yml runs PostgreSQL beside it).
# Node 24 is the current LTS line. The build stage compiles everything; the deps stage
# installs the server's production dependencies; the runtime stage gets those and the built
# output only. (This layout was checked by assembling it outside Docker and starting it.)
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN npm install -g pnpm@10.34.8
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build

# The server's production dependencies alone, installed from the lockfile into a clean tree.
# No scripts: the Prisma client is generated in the build stage (prisma/generated), and the
# image uses DATABASE_URL, not the embedded PostgreSQL.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
RUN npm install -g pnpm@10.34.8
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY patches patches
COPY apps/server/package.json apps/server/
COPY apps/web/package.json apps/web/
COPY packages/contracts/package.json packages/contracts/
COPY packages/simulator/package.json packages/simulator/
COPY prisma/package.json prisma/
COPY e2e/package.json e2e/
COPY bench/package.json bench/
RUN CI=true pnpm install --prod --frozen-lockfile --ignore-scripts --filter "@fleetwatch/server..."

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    MQTT_PORT=1883 \
    DATA_DIR=/app/data
WORKDIR /app
# pnpm's layout: the packages live in node_modules/.pnpm, each workspace package's
# node_modules holds links into it (COPY keeps links as links).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/apps/server/node_modules apps/server/node_modules
COPY --from=deps /app/packages/contracts/node_modules packages/contracts/node_modules
COPY --from=deps /app/prisma/node_modules prisma/node_modules
COPY --from=build /app/package.json /app/pnpm-workspace.yaml ./
COPY --from=build /app/apps/server/package.json apps/server/
COPY --from=build /app/apps/server/dist apps/server/dist
COPY --from=build /app/apps/web/dist apps/web/dist
COPY --from=build /app/packages/contracts/package.json packages/contracts/
COPY --from=build /app/packages/contracts/dist packages/contracts/dist
COPY --from=build /app/prisma/package.json /app/prisma/schema.prisma prisma/
COPY --from=build /app/prisma/dist prisma/dist
COPY --from=build /app/prisma/generated prisma/generated
COPY --from=build /app/prisma/migrations prisma/migrations
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080 1883 8883
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "apps/server/dist/main.js"]
