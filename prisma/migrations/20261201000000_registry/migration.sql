-- CreateEnum
CREATE TYPE "OrganisationStatus" AS ENUM ('ACTIVE', 'CLOSED');

-- CreateEnum
CREATE TYPE "ApplicationStatus" AS ENUM ('PENDING', 'ADMITTED', 'SUSPENDED', 'REJECTED', 'EXPIRED', 'OFFBOARDED');

-- CreateEnum
CREATE TYPE "ContactRole" AS ENUM ('BUSINESS', 'TECHNICAL', 'SECURITY');

-- CreateEnum
CREATE TYPE "AnchorKind" AS ENUM ('X509', 'JWK', 'SPIFFE', 'OIDC');

-- CreateEnum
CREATE TYPE "AnchorStatus" AS ENUM ('ACTIVE', 'ROTATING_OUT', 'RETIRED', 'REVOKED');

-- CreateTable
CREATE TABLE "organisations" (
    "id" UUID NOT NULL,
    "legal_name" TEXT NOT NULL,
    "lei" TEXT NOT NULL,
    "jurisdiction" TEXT NOT NULL,
    "primary_domain" TEXT NOT NULL,
    "status" "OrganisationStatus" NOT NULL DEFAULT 'ACTIVE',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "organisations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "applications" (
    "id" TEXT NOT NULL,
    "organisation_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "name_key" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "requested_scopes" TEXT[],
    "data_sensitivity" TEXT NOT NULL,
    "regulated_sector" BOOLEAN NOT NULL,
    "strategic" BOOLEAN NOT NULL,
    "expected_monthly_calls" INTEGER NOT NULL,
    "contract_end_date" DATE NOT NULL,
    "requested_by" TEXT NOT NULL,
    "status" "ApplicationStatus" NOT NULL DEFAULT 'PENDING',
    "workflow_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "closed_at" TIMESTAMPTZ(3),

    CONSTRAINT "applications_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contacts" (
    "id" UUID NOT NULL,
    "application_id" TEXT NOT NULL,
    "role" "ContactRole" NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "confirmed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contacts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trust_anchors" (
    "id" UUID NOT NULL,
    "application_id" TEXT NOT NULL,
    "kind" "AnchorKind" NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "key_fingerprint" TEXT,
    "subject" TEXT,
    "material" JSONB NOT NULL,
    "status" "AnchorStatus" NOT NULL DEFAULT 'ACTIVE',
    "verified_at" TIMESTAMPTZ(3) NOT NULL,
    "not_after" TIMESTAMPTZ(3),
    "retired_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trust_anchors_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "organisation_id" UUID,
    "application_id" TEXT,
    "type" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "data" JSONB NOT NULL,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE UNIQUE INDEX "organisations_lei_key" ON "organisations"("lei");

-- CreateIndex
CREATE UNIQUE INDEX "applications_workflow_id_key" ON "applications"("workflow_id");

-- CreateIndex
CREATE INDEX "applications_status_idx" ON "applications"("status");

-- CreateIndex
CREATE UNIQUE INDEX "applications_organisation_id_name_key_environment_key" ON "applications"("organisation_id", "name_key", "environment");

-- CreateIndex
CREATE UNIQUE INDEX "contacts_application_id_role_key" ON "contacts"("application_id", "role");

-- CreateIndex
CREATE UNIQUE INDEX "trust_anchors_fingerprint_key" ON "trust_anchors"("fingerprint");

-- CreateIndex
CREATE INDEX "trust_anchors_key_fingerprint_idx" ON "trust_anchors"("key_fingerprint");

-- CreateIndex
CREATE INDEX "trust_anchors_application_id_status_idx" ON "trust_anchors"("application_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_id_key" ON "audit_events"("id");

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_idempotency_key_key" ON "audit_events"("idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_hash_key" ON "audit_events"("hash");

-- CreateIndex
CREATE INDEX "audit_events_application_id_seq_idx" ON "audit_events"("application_id", "seq");

-- CreateIndex
CREATE INDEX "audit_events_organisation_id_seq_idx" ON "audit_events"("organisation_id", "seq");

-- AddForeignKey
ALTER TABLE "applications" ADD CONSTRAINT "applications_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trust_anchors" ADD CONSTRAINT "trust_anchors_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Evidence is append-only: the database itself refuses to rewrite or delete it.
CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "audit_events_no_update_or_delete"
    BEFORE UPDATE OR DELETE ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();

CREATE TRIGGER "audit_events_no_truncate"
    BEFORE TRUNCATE ON "audit_events"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"();
