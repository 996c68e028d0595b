# One image for Admit's worker, HTTP service and migrations (see docker-compose.yml).
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN node scripts/prisma-generate.mjs && npm prune --omit=dev --ignore-scripts
ENV NODE_ENV=production
USER node
CMD ["npx", "tsx", "worker/main.ts"]
