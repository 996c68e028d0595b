-- Legal-entity and domain verification (issue 9): the organisation's verification state, every
-- LEI check with its evidence, and the domain-control challenges.

-- AlterTable: organisations already in the registry are backfilled as unverified (the defaults);
-- their next application, or a re-verification, verifies them.
ALTER TABLE "organisations"
    ADD COLUMN "verified" BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN "verified_at" TIMESTAMPTZ(3),
    ADD COLUMN "lei_verified_at" TIMESTAMPTZ(3),
    ADD COLUMN "domain_verified_at" TIMESTAMPTZ(3),
    ADD COLUMN "domain_verification_method" TEXT;

-- CreateTable
CREATE TABLE "lei_checks" (
    "id" UUID NOT NULL,
    "check_key" TEXT NOT NULL,
    "organisation_id" UUID NOT NULL,
    "application_id" TEXT NOT NULL,
    "lei" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "registration_status" TEXT,
    "entity_status" TEXT,
    "record_legal_name" TEXT,
    "matched_name" TEXT,
    "record_jurisdiction" TEXT,
    "claimed_legal_name" TEXT NOT NULL,
    "claimed_jurisdiction" TEXT NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "reasons" JSONB NOT NULL,
    "record" JSONB,
    "source" TEXT NOT NULL,
    "checked_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lei_checks_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "lei_checks_outcome_check" CHECK ("outcome" IN ('pass', 'needs-approval', 'refused')),
    CONSTRAINT "lei_checks_score_check" CHECK ("score" >= 0 AND "score" <= 1)
);

-- CreateTable
CREATE TABLE "domain_challenges" (
    "id" UUID NOT NULL,
    "organisation_id" UUID NOT NULL,
    "application_id" TEXT NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "domain" TEXT NOT NULL,
    "round" INTEGER NOT NULL,
    "token_hash" TEXT NOT NULL,
    "issued_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "verified_at" TIMESTAMPTZ(3),
    "method" TEXT,
    "last_checked_at" TIMESTAMPTZ(3),
    "last_reasons" JSONB,

    CONSTRAINT "domain_challenges_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "domain_challenges_method_check" CHECK ("method" IS NULL OR "method" IN ('dns-txt', 'https-well-known'))
);

-- CreateIndex
CREATE UNIQUE INDEX "lei_checks_check_key_key" ON "lei_checks"("check_key");

-- CreateIndex
CREATE INDEX "lei_checks_organisation_id_checked_at_idx" ON "lei_checks"("organisation_id", "checked_at");

-- CreateIndex
CREATE UNIQUE INDEX "domain_challenges_token_hash_key" ON "domain_challenges"("token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "domain_challenges_workflow_id_domain_round_key" ON "domain_challenges"("workflow_id", "domain", "round");

-- CreateIndex
CREATE INDEX "domain_challenges_organisation_id_idx" ON "domain_challenges"("organisation_id");

-- AddForeignKey
ALTER TABLE "lei_checks" ADD CONSTRAINT "lei_checks_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lei_checks" ADD CONSTRAINT "lei_checks_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "domain_challenges" ADD CONSTRAINT "domain_challenges_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "domain_challenges" ADD CONSTRAINT "domain_challenges_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
