-- Contact-confirmation links belong to one claim of an application: an id claimed
-- again after a claim ended unverified restarts its rounds at 0.
ALTER TABLE "contact_confirmations" ADD COLUMN "workflow_id" TEXT;
UPDATE "contact_confirmations" c SET "workflow_id" = a."workflow_id" FROM "applications" a WHERE a."id" = c."application_id";
ALTER TABLE "contact_confirmations" ALTER COLUMN "workflow_id" SET NOT NULL;

DROP INDEX "contact_confirmations_application_id_role_round_key";
CREATE UNIQUE INDEX "contact_confirmations_application_id_workflow_id_role_round_key" ON "contact_confirmations"("application_id", "workflow_id", "role", "round");

-- The mail outbox: a delivery is recorded before its mail is sent and marked
-- accepted once the SMTP server takes it. Earlier rows were written after acceptance.
ALTER TABLE "notification_deliveries" ADD COLUMN "accepted_at" TIMESTAMPTZ(3);
UPDATE "notification_deliveries" SET "accepted_at" = "sent_at";
