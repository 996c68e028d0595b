-- CreateEnum
CREATE TYPE "GrantStatus" AS ENUM ('ACTIVE', 'SUSPENDED', 'REVOKED');

-- CreateEnum
CREATE TYPE "CredentialStatus" AS ENUM ('ACTIVE', 'SUSPENDED', 'REVOKED');

-- AlterTable
ALTER TABLE "applications" ADD COLUMN     "admitted_at" TIMESTAMPTZ(3),
ADD COLUMN     "risk_score" INTEGER,
ADD COLUMN     "tier" TEXT;

-- CreateTable
CREATE TABLE "contact_confirmations" (
    "id" UUID NOT NULL,
    "application_id" TEXT NOT NULL,
    "role" "ContactRole" NOT NULL,
    "round" INTEGER NOT NULL,
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),

    CONSTRAINT "contact_confirmations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "grants" (
    "id" UUID NOT NULL,
    "application_id" TEXT NOT NULL,
    "scopes" TEXT[],
    "conditions" JSONB NOT NULL,
    "status" "GrantStatus" NOT NULL DEFAULT 'ACTIVE',
    "tier" TEXT NOT NULL,
    "approved_by" TEXT[],
    "granted_at" TIMESTAMPTZ(3) NOT NULL,
    "suspended_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "revocation_reason" TEXT,

    CONSTRAINT "grants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "client_credentials" (
    "id" UUID NOT NULL,
    "client_id" TEXT NOT NULL,
    "application_id" TEXT NOT NULL,
    "anchor_fingerprint" TEXT NOT NULL,
    "confirmation_method" TEXT NOT NULL,
    "confirmation_value" TEXT NOT NULL,
    "token_lifetime_seconds" INTEGER NOT NULL,
    "status" "CredentialStatus" NOT NULL DEFAULT 'ACTIVE',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "client_credentials_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "usage_reports" (
    "id" UUID NOT NULL,
    "client_id" TEXT NOT NULL,
    "application_id" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "interval_start" TIMESTAMPTZ(3) NOT NULL,
    "interval_end" TIMESTAMPTZ(3) NOT NULL,
    "calls" INTEGER NOT NULL,
    "denials" INTEGER NOT NULL,
    "errors" INTEGER NOT NULL,
    "anomalies" INTEGER NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3),
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "usage_reports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "approvers" (
    "id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "roles" TEXT[],
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "approvers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "used_assertions" (
    "jti" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "used_assertions_pkey" PRIMARY KEY ("jti")
);

-- CreateIndex
CREATE UNIQUE INDEX "contact_confirmations_token_hash_key" ON "contact_confirmations"("token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "contact_confirmations_application_id_role_round_key" ON "contact_confirmations"("application_id", "role", "round");

-- CreateIndex
CREATE INDEX "grants_application_id_status_idx" ON "grants"("application_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "client_credentials_client_id_key" ON "client_credentials"("client_id");

-- CreateIndex
CREATE INDEX "client_credentials_application_id_status_idx" ON "client_credentials"("application_id", "status");

-- CreateIndex
CREATE INDEX "usage_reports_application_id_interval_start_idx" ON "usage_reports"("application_id", "interval_start");

-- CreateIndex
CREATE UNIQUE INDEX "usage_reports_client_id_source_interval_start_key" ON "usage_reports"("client_id", "source", "interval_start");

-- CreateIndex
CREATE UNIQUE INDEX "approvers_subject_key" ON "approvers"("subject");

-- CreateIndex
CREATE UNIQUE INDEX "approvers_email_key" ON "approvers"("email");

-- CreateIndex
CREATE INDEX "used_assertions_expires_at_idx" ON "used_assertions"("expires_at");

-- AddForeignKey
ALTER TABLE "contact_confirmations" ADD CONSTRAINT "contact_confirmations_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "grants" ADD CONSTRAINT "grants_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "client_credentials" ADD CONSTRAINT "client_credentials_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
