-- Issue 12: one hash chain per application (per claim of its id), per organisation, and one for
-- system events, so appends to different chains run in parallel; signed checkpoints over their heads.

-- A chain is keyed by a surrogate id. An application id released by a claim that ended unverified is
-- taken by the next claim with a new chain: the old one is superseded and keeps its events.
CREATE TABLE "audit_chains" (
    "id" UUID NOT NULL,
    -- The chain's leaf index in every checkpoint: chains only ever append to this order.
    "position" BIGSERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "organisation_id" UUID,
    "application_id" TEXT,
    "opened_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "superseded_at" TIMESTAMPTZ(3),
    -- Events in the chain; the last one's hash (the genesis hash while empty).
    "size" INTEGER NOT NULL DEFAULT 0,
    "head_hash" TEXT NOT NULL,

    CONSTRAINT "audit_chains_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "audit_chains_kind_check" CHECK ("kind" IN ('legacy', 'system', 'organisation', 'application')),
    CONSTRAINT "audit_chains_key_check" CHECK (
        ("kind" = 'application' AND "application_id" IS NOT NULL) OR
        ("kind" = 'organisation' AND "organisation_id" IS NOT NULL AND "application_id" IS NULL) OR
        ("kind" IN ('legacy', 'system') AND "organisation_id" IS NULL AND "application_id" IS NULL))
);
CREATE UNIQUE INDEX "audit_chains_position_key" ON "audit_chains"("position");
CREATE INDEX "audit_chains_application_id_idx" ON "audit_chains"("application_id");
CREATE UNIQUE INDEX "audit_chains_open_application_key" ON "audit_chains"("application_id") WHERE "kind" = 'application' AND "superseded_at" IS NULL;
CREATE UNIQUE INDEX "audit_chains_organisation_key" ON "audit_chains"("organisation_id") WHERE "kind" = 'organisation';
CREATE UNIQUE INDEX "audit_chains_singleton_key" ON "audit_chains"("kind") WHERE "kind" IN ('legacy', 'system');

-- Adding nullable columns rewrites no row and fires no row trigger: the events already written keep
-- every byte, and their hashes. They stay without a chain id: the legacy segment.
ALTER TABLE "audit_events" ADD COLUMN "chain_id" UUID;
ALTER TABLE "audit_events" ADD COLUMN "chain_seq" INTEGER;
-- The secret each chained event's per-field salts derive from (docs/evidence.md).
ALTER TABLE "audit_events" ADD COLUMN "salt" TEXT;
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_chain_id_fkey" FOREIGN KEY ("chain_id") REFERENCES "audit_chains"("id") ON DELETE RESTRICT ON UPDATE RESTRICT;
CREATE UNIQUE INDEX "audit_events_chain_id_chain_seq_key" ON "audit_events"("chain_id", "chain_seq");
-- Every event from now on belongs to a chain (NOT VALID: the legacy rows are not checked, nor touched).
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_chained_check"
    CHECK ("chain_id" IS NOT NULL AND "chain_seq" IS NOT NULL AND "salt" IS NOT NULL) NOT VALID;

-- The legacy segment: the global chain as it stands, frozen, committed by the first checkpoint.
INSERT INTO "audit_chains" ("id", "kind", "size", "head_hash", "superseded_at")
SELECT gen_random_uuid(), 'legacy', count(*)::int,
       COALESCE((SELECT "hash" FROM "audit_events" ORDER BY "seq" DESC LIMIT 1), repeat('0', 64)), now()
FROM "audit_events"
HAVING count(*) > 0;

-- Signed checkpoints: an RFC 9162 Merkle tree over every chain's head, signed with the evidence key.
CREATE TABLE "audit_checkpoints" (
    "seq" BIGSERIAL NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "tree_size" INTEGER NOT NULL,
    "root_hash" TEXT NOT NULL,
    -- Every leaf, in position order: {chainId, kind, size, head}.
    "leaves" JSONB NOT NULL,
    "kid" TEXT NOT NULL,
    "jws" TEXT NOT NULL,

    CONSTRAINT "audit_checkpoints_pkey" PRIMARY KEY ("seq")
);

CREATE TRIGGER "audit_checkpoints_no_update_or_delete"
    BEFORE UPDATE OR DELETE ON "audit_checkpoints"
    FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();

CREATE TRIGGER "audit_checkpoints_no_truncate"
    BEFORE TRUNCATE ON "audit_checkpoints"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"();
