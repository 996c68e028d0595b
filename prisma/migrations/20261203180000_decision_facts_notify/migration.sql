-- What request-time decisions read (credentials, their applications' status and environment, the
-- grants) is cached in each web process (registry/decision-cache.ts). Every change to it bumps one
-- version counter and sends a NOTIFY on channel admit_decision_facts, both in the transaction that
-- makes the change, so no code path can change a decision without telling the caches. The web
-- processes LISTEN for the notifications (invalidation within milliseconds) and poll the counter
-- as a fallback (a bounded staleness when a notification is lost).
CREATE TABLE "decision_facts_version" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "version" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "decision_facts_version_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "decision_facts_version_single_row" CHECK ("id" = 1)
);
INSERT INTO "decision_facts_version" ("id", "version") VALUES (1, 0);

-- Fires at commit (deferred), so the counter's row lock is the last lock a transaction takes and is
-- held only while it commits: no deadlock with the audit chain's lock, little contention.
CREATE FUNCTION "decision_facts_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v BIGINT;
    app TEXT;
    old_app TEXT;
    client TEXT;
    old_client TEXT;
BEGIN
    UPDATE "decision_facts_version" SET "version" = "version" + 1 WHERE "id" = 1 RETURNING "version" INTO v;
    IF TG_TABLE_NAME = 'applications' THEN
        IF TG_OP <> 'DELETE' THEN app := NEW."id"; END IF;
        IF TG_OP <> 'INSERT' THEN old_app := OLD."id"; END IF;
    ELSE
        IF TG_OP <> 'DELETE' THEN app := NEW."application_id"; END IF;
        IF TG_OP <> 'INSERT' THEN old_app := OLD."application_id"; END IF;
    END IF;
    IF TG_TABLE_NAME = 'client_credentials' THEN
        IF TG_OP <> 'DELETE' THEN client := NEW."client_id"; END IF;
        IF TG_OP <> 'INSERT' THEN old_client := OLD."client_id"; END IF;
    END IF;
    PERFORM pg_notify('admit_decision_facts', json_build_object('v', v, 'app', COALESCE(app, old_app), 'client', COALESCE(client, old_client))::text);
    IF old_app IS DISTINCT FROM COALESCE(app, old_app) OR old_client IS DISTINCT FROM COALESCE(client, old_client) THEN
        PERFORM pg_notify('admit_decision_facts', json_build_object('v', v, 'app', old_app, 'client', old_client)::text);
    END IF;
    RETURN NULL;
END;
$$;

-- A TRUNCATE names no rows: every cache drops everything.
CREATE FUNCTION "decision_facts_truncated"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v BIGINT;
BEGIN
    UPDATE "decision_facts_version" SET "version" = "version" + 1 WHERE "id" = 1 RETURNING "version" INTO v;
    PERFORM pg_notify('admit_decision_facts', json_build_object('v', v, 'all', true)::text);
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER "client_credentials_decision_facts"
    AFTER INSERT OR UPDATE OR DELETE ON "client_credentials"
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION "decision_facts_changed"();

CREATE CONSTRAINT TRIGGER "grants_decision_facts"
    AFTER INSERT OR UPDATE OR DELETE ON "grants"
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION "decision_facts_changed"();

-- Applications change often during admission (stage after stage); only status and environment matter here.
CREATE CONSTRAINT TRIGGER "applications_decision_facts"
    AFTER UPDATE OF "status", "environment" ON "applications"
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD."status" IS DISTINCT FROM NEW."status" OR OLD."environment" IS DISTINCT FROM NEW."environment")
    EXECUTE FUNCTION "decision_facts_changed"();

CREATE CONSTRAINT TRIGGER "applications_deleted_decision_facts"
    AFTER DELETE ON "applications"
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION "decision_facts_changed"();

CREATE TRIGGER "client_credentials_truncated_decision_facts"
    AFTER TRUNCATE ON "client_credentials"
    FOR EACH STATEMENT EXECUTE FUNCTION "decision_facts_truncated"();

CREATE TRIGGER "grants_truncated_decision_facts"
    AFTER TRUNCATE ON "grants"
    FOR EACH STATEMENT EXECUTE FUNCTION "decision_facts_truncated"();

CREATE TRIGGER "applications_truncated_decision_facts"
    AFTER TRUNCATE ON "applications"
    FOR EACH STATEMENT EXECUTE FUNCTION "decision_facts_truncated"();
