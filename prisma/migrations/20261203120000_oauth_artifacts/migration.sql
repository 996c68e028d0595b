-- CreateTable
CREATE TABLE "oauth_artifacts" (
    "model" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "client_id" TEXT,
    "expires_at" TIMESTAMPTZ(3),
    "consumed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "oauth_artifacts_pkey" PRIMARY KEY ("model","id")
);

-- CreateIndex
CREATE INDEX "oauth_artifacts_client_id_idx" ON "oauth_artifacts"("client_id");

-- CreateIndex
CREATE INDEX "oauth_artifacts_expires_at_idx" ON "oauth_artifacts"("expires_at");
