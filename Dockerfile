# One image for Admit's worker, HTTP service and migrations (see docker-compose.yml, deploy/k8s/).
# The build stage compiles to dist/ (`npm run build`: tsc, and the workflow bundle prebuilt); the
# image keeps dist/ and production dependencies only, and runs as the unprivileged `node` user.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
# The worker; the web is `node dist/web/main.js`, the migrations `node dist/registry/migrate-main.js`.
CMD ["node", "dist/worker/main.js"]
