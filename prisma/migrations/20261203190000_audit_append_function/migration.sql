-- Issue 12: an audit append is one call of a server-side function. It does what the single statement
-- in registry/audit.ts did (lock the chain's head row, write the event linked to that head, move the
-- head), plus the idempotency check and the chain's creation on its first event, in one round trip,
-- with plans PL/pgSQL prepares once per connection instead of a large statement parsed on every append.
--
-- The event's hash is SHA-256 over the RFC 8785 canonical JSON made by the caller, with the head's
-- values spliced in here: the chain id (a uuid), its place (an integer) and the previous hash (hex),
-- which canonical JSON writes as they are (evidence/event-hash.ts recomputes it exactly).
CREATE FUNCTION "audit_append"(
    p_kind TEXT,
    p_organisation_id UUID,
    p_application_id TEXT,
    p_id UUID,
    p_idempotency_key TEXT,
    p_type TEXT,
    p_actor TEXT,
    p_occurred_at TIMESTAMPTZ(3),
    p_data JSONB,
    p_salt TEXT,
    p_before_chain TEXT,
    p_before_seq TEXT,
    p_before_prev TEXT,
    p_after_prev TEXT
) RETURNS TABLE ("seq" BIGINT, "prev_hash" TEXT, "hash" TEXT, "chain_id" UUID, "chain_seq" INTEGER)
LANGUAGE plpgsql AS $$
DECLARE
    head RECORD;
    next_seq INTEGER;
    next_hash TEXT;
BEGIN
    IF p_kind NOT IN ('system', 'organisation', 'application') THEN
        RAISE EXCEPTION 'audit_append: % is not a chain kind', p_kind USING ERRCODE = '22023';
    END IF;
    -- Written before (a retried activity): nothing to do; the caller reads the event back.
    PERFORM 1 FROM "audit_events" e WHERE e."idempotency_key" = p_idempotency_key;
    IF FOUND THEN
        RETURN;
    END IF;
    FOR attempt IN 1..2 LOOP
        -- Only this chain's head is locked: appends to other chains do not wait.
        IF p_kind = 'application' THEN
            SELECT c."id", c."size", c."head_hash" INTO head FROM "audit_chains" c
             WHERE c."kind" = 'application' AND c."application_id" = p_application_id AND c."superseded_at" IS NULL FOR UPDATE;
        ELSIF p_kind = 'organisation' THEN
            SELECT c."id", c."size", c."head_hash" INTO head FROM "audit_chains" c
             WHERE c."kind" = 'organisation' AND c."organisation_id" = p_organisation_id FOR UPDATE;
        ELSE
            SELECT c."id", c."size", c."head_hash" INTO head FROM "audit_chains" c WHERE c."kind" = 'system' FOR UPDATE;
        END IF;
        EXIT WHEN FOUND;
        -- The chain's first event: open it (a concurrent first append may win; then its chain is used).
        INSERT INTO "audit_chains" ("id", "kind", "organisation_id", "application_id", "head_hash")
        VALUES (gen_random_uuid(), p_kind,
                CASE WHEN p_kind = 'organisation' THEN p_organisation_id END,
                CASE WHEN p_kind = 'application' THEN p_application_id END,
                repeat('0', 64))
        ON CONFLICT DO NOTHING;
    END LOOP;
    IF head."id" IS NULL THEN
        RAISE EXCEPTION 'audit_append: no % chain for %', p_kind, p_idempotency_key;
    END IF;
    next_seq := head."size" + 1;
    next_hash := encode(sha256(convert_to(
        p_before_chain || '"' || head."id"::text || '"' || p_before_seq || ':' || next_seq::text || ','
        || p_before_prev || '"' || head."head_hash" || '"' || p_after_prev, 'UTF8')), 'hex');
    RETURN QUERY
    INSERT INTO "audit_events" ("id", "idempotency_key", "organisation_id", "application_id", "type", "actor", "occurred_at",
                                "data", "prev_hash", "hash", "chain_id", "chain_seq", "salt")
    VALUES (p_id, p_idempotency_key, p_organisation_id, p_application_id, p_type, p_actor, p_occurred_at,
            p_data, head."head_hash", next_hash, head."id", next_seq, p_salt)
    ON CONFLICT ("idempotency_key") DO NOTHING
    RETURNING "audit_events"."seq", "audit_events"."prev_hash", "audit_events"."hash", "audit_events"."chain_id", "audit_events"."chain_seq";
    IF FOUND THEN
        UPDATE "audit_chains" SET "size" = next_seq, "head_hash" = next_hash WHERE "id" = head."id";
    END IF;
END
$$;
