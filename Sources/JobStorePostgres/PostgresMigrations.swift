import Foundation
import PostgresNIO

/// The versioned schema of the PostgreSQL store: the same tables and columns as the SQLite
/// store (times are BIGINT microseconds since 1970, so both stores compare and sort them
/// exactly alike), plus the token buckets that replicas share.
///
/// Applied versions are recorded in `schema_migrations`. Each migration runs in its own
/// transaction that first takes a transaction-scoped advisory lock, so several processes
/// starting at once apply every migration exactly once: the others wait, then find it
/// recorded.
enum PostgresMigrations {
    struct Migration: Sendable {
        var version: Int
        var name: String
        /// One statement each: the extended query protocol runs a single statement per query.
        var statements: [String]
    }

    static func migrate(client: PostgresClient, logger: Logger) async throws {
        for migration in all {
            try await client.transaction(logger: logger) { connection in
                _ = try await connection.rows("SELECT pg_advisory_xact_lock(\(PostgresAdvisoryLocks.migrations))", logger: logger)
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version INT PRIMARY KEY,
                        name TEXT NOT NULL,
                        applied_at BIGINT NOT NULL
                    )
                    """, logger: logger)
                let applied = try await connection.query(
                    "SELECT version FROM schema_migrations WHERE version = \(migration.version)", logger: logger).collect()
                guard applied.isEmpty else { return }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(migration.version), \(migration.name), \(Date().microsecondsSince1970))
                    """, logger: logger)
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
        }
    }

    static let all: [Migration] = [
        Migration(version: 1, name: "jobs, idempotency keys, usage, audit, ledger", statements: [
            """
            CREATE TABLE jobs (
                id UUID PRIMARY KEY,
                tenant TEXT NOT NULL,
                owner TEXT NOT NULL,
                type TEXT NOT NULL,
                status TEXT NOT NULL,
                priority INTEGER NOT NULL,
                use_fhe BOOLEAN NOT NULL,
                payload TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                started_at BIGINT,
                finished_at BIGINT,
                run_after BIGINT NOT NULL,
                attempts INTEGER NOT NULL,
                max_attempts INTEGER NOT NULL,
                timeout_seconds INTEGER NOT NULL,
                lease_owner TEXT,
                lease_expires_at BIGINT,
                result TEXT,
                result_hash TEXT,
                error_code TEXT,
                error_message TEXT,
                confirmation_kind TEXT,
                confirmation_ref TEXT,
                confirmation_block BIGINT,
                confirmed_at BIGINT
            )
            """,
            "CREATE INDEX jobs_queue ON jobs (priority DESC, created_at, id) WHERE status = 'queued'",
            "CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running'",
            "CREATE INDEX jobs_awaiting_confirmation ON jobs (finished_at) WHERE status = 'succeeded'",
            "CREATE INDEX jobs_by_created ON jobs (created_at DESC, id DESC)",
            "CREATE INDEX jobs_by_tenant ON jobs (tenant, created_at DESC, id DESC)",
            "CREATE INDEX jobs_by_tenant_status ON jobs (tenant, status)",
            """
            CREATE TABLE idempotency_keys (
                tenant TEXT NOT NULL,
                key TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('in_progress', 'completed')),
                status_code INTEGER,
                job_id UUID,
                response BYTEA,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (tenant, key)
            )
            """,
            """
            CREATE TABLE usage (
                tenant TEXT NOT NULL,
                month TEXT NOT NULL,
                jobs_submitted BIGINT NOT NULL DEFAULT 0,
                jobs_succeeded BIGINT NOT NULL DEFAULT 0,
                jobs_failed BIGINT NOT NULL DEFAULT 0,
                compute_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
                bytes_stored BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (tenant, month)
            )
            """,
            """
            CREATE TABLE audit (
                id BIGSERIAL PRIMARY KEY,
                at BIGINT NOT NULL,
                tenant TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT,
                outcome TEXT NOT NULL,
                request_id TEXT NOT NULL
            )
            """,
            "CREATE INDEX audit_by_tenant ON audit (tenant, id DESC)",
            """
            CREATE TABLE ledger (
                sequence BIGINT PRIMARY KEY,
                job_id UUID NOT NULL UNIQUE,
                result_hash TEXT NOT NULL,
                status TEXT NOT NULL,
                previous_hash TEXT,
                entry_hash TEXT NOT NULL,
                signature TEXT NOT NULL,
                recorded_at BIGINT NOT NULL
            )
            """,
            // Append-only: the audit trail and the ledger cannot be edited through the
            // database either. TRUNCATE bypasses row triggers, so it is refused as well.
            """
            CREATE FUNCTION reject_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
            END
            $$
            """,
            """
            CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
            FOR EACH ROW EXECUTE FUNCTION reject_append_only_change()
            """,
            """
            CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change()
            """,
            """
            CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
            FOR EACH ROW EXECUTE FUNCTION reject_append_only_change()
            """,
            """
            CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
            FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change()
            """,
        ]),
        Migration(version: 2, name: "rate-limit buckets shared by replicas", statements: [
            """
            CREATE TABLE rate_limit_buckets (
                bucket TEXT PRIMARY KEY,
                tokens DOUBLE PRECISION NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
        ]),
        // The active-jobs quota is checked on every submission; counting the tenant's queued
        // and running rows grows with the queue, so a trigger keeps the count instead.
        Migration(version: 3, name: "active jobs per tenant kept by a trigger; one-statement rate limiting", statements: [
            """
            CREATE TABLE tenant_active_jobs (
                tenant TEXT PRIMARY KEY,
                active BIGINT NOT NULL
            )
            """,
            """
            INSERT INTO tenant_active_jobs (tenant, active)
            SELECT tenant, count(*) FROM jobs WHERE status IN ('queued', 'running') GROUP BY tenant
            """,
            """
            CREATE FUNCTION count_active_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                was_active BOOLEAN := TG_OP = 'UPDATE' AND OLD.status IN ('queued', 'running');
                is_active BOOLEAN := NEW.status IN ('queued', 'running');
            BEGIN
                IF was_active <> is_active THEN
                    INSERT INTO tenant_active_jobs (tenant, active) VALUES (NEW.tenant, CASE WHEN is_active THEN 1 ELSE -1 END)
                    ON CONFLICT (tenant) DO UPDATE
                    SET active = tenant_active_jobs.active + CASE WHEN is_active THEN 1 ELSE -1 END;
                END IF;
                RETURN NULL;
            END
            $$
            """,
            """
            CREATE TRIGGER jobs_count_active AFTER INSERT OR UPDATE OF status ON jobs
            FOR EACH ROW EXECUTE FUNCTION count_active_jobs()
            """,
            // The rate limiter's single-statement upsert reports its decision through this.
            "ALTER TABLE rate_limit_buckets ADD COLUMN last_allowed BOOLEAN NOT NULL DEFAULT true",
        ]),
        // A submission's checks and writes in one round trip: the tenant's insert lock is held
        // for the function's run, not for eight client round trips.
        Migration(version: 4, name: "job insertion as one server-side function", statements: [
            """
            CREATE FUNCTION fhe_insert_job(
                p_lock_class INT, p_id UUID, p_tenant TEXT, p_owner TEXT, p_type TEXT, p_priority INT, p_use_fhe BOOLEAN,
                p_payload TEXT, p_created_at BIGINT, p_max_attempts INT, p_timeout_seconds INT, p_month TEXT,
                p_max_active BIGINT, p_max_per_month BIGINT,
                p_idempotency_key TEXT, p_status_code INT, p_response BYTEA, p_channel TEXT
            ) RETURNS TEXT LANGUAGE plpgsql AS $$
            DECLARE
                v_active BIGINT;
                v_submitted BIGINT;
            BEGIN
                -- One insert per tenant at a time: counting, then inserting, is only safe when no
                -- other insert of the tenant can slip in between (READ COMMITTED would let it).
                PERFORM pg_advisory_xact_lock(p_lock_class, hashtext(p_tenant));
                SELECT active INTO v_active FROM tenant_active_jobs WHERE tenant = p_tenant;
                IF coalesce(v_active, 0) >= p_max_active THEN RETURN 'active_quota'; END IF;
                SELECT jobs_submitted INTO v_submitted FROM usage WHERE tenant = p_tenant AND month = p_month;
                IF coalesce(v_submitted, 0) >= p_max_per_month THEN RETURN 'monthly_quota'; END IF;
                INSERT INTO jobs (id, tenant, owner, type, status, priority, use_fhe, payload, created_at, updated_at,
                                  run_after, attempts, max_attempts, timeout_seconds)
                VALUES (p_id, p_tenant, p_owner, p_type, 'queued', p_priority, p_use_fhe, p_payload, p_created_at, p_created_at,
                        p_created_at, 0, p_max_attempts, p_timeout_seconds);
                INSERT INTO usage (tenant, month, jobs_submitted, bytes_stored)
                VALUES (p_tenant, p_month, 1, octet_length(p_payload))
                ON CONFLICT (tenant, month) DO UPDATE SET jobs_submitted = usage.jobs_submitted + 1,
                                                          bytes_stored = usage.bytes_stored + excluded.bytes_stored;
                IF p_idempotency_key IS NOT NULL THEN
                    UPDATE idempotency_keys SET state = 'completed', status_code = p_status_code, job_id = p_id, response = p_response
                    WHERE tenant = p_tenant AND key = p_idempotency_key;
                END IF;
                -- Delivered to other processes' idle workers at commit, and not at all on rollback.
                PERFORM pg_notify(p_channel, '');
                RETURN 'inserted';
            END
            $$
            """,
        ]),
            // The chain confirmer's write-ahead log of signed transactions (ChainTransactionLog).
        Migration(version: 5, name: "chain transactions in flight", statements: [
            """
            CREATE TABLE chain_transactions (
                account TEXT NOT NULL,
                nonce BIGINT NOT NULL,
                record TEXT NOT NULL,
                PRIMARY KEY (account, nonce)
            )
            """,
        ]),
        // Confidential jobs: their record (keys, input blob, quote) and progress, their
        // metering, the owners' key sets, and the insert function taking the record.
        Migration(version: 6, name: "confidential jobs, FHE metering, key sets", statements: [
            "ALTER TABLE jobs ADD COLUMN fhe TEXT",
            "ALTER TABLE jobs ADD COLUMN progress TEXT",
            "ALTER TABLE usage ADD COLUMN fhe_bootstraps BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE usage ADD COLUMN fhe_compute_seconds DOUBLE PRECISION NOT NULL DEFAULT 0",
            """
            CREATE TABLE fhe_key_sets (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                owner TEXT NOT NULL,
                parameter_set TEXT NOT NULL,
                parameter_fingerprint TEXT NOT NULL,
                wrapped_secret_key BYTEA NOT NULL,
                kek_id TEXT NOT NULL,
                public_key_blob TEXT NOT NULL,
                public_key_bytes BIGINT NOT NULL,
                server_key_blob TEXT NOT NULL,
                server_key_bytes BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                UNIQUE (tenant, owner, parameter_set)
            )
            """,
            "DROP FUNCTION fhe_insert_job(INT, UUID, TEXT, TEXT, TEXT, INT, BOOLEAN, TEXT, BIGINT, INT, INT, TEXT, BIGINT, BIGINT, TEXT, INT, BYTEA, TEXT)",
            """
            CREATE FUNCTION fhe_insert_job(
                p_lock_class INT, p_id UUID, p_tenant TEXT, p_owner TEXT, p_type TEXT, p_priority INT, p_use_fhe BOOLEAN,
                p_payload TEXT, p_created_at BIGINT, p_max_attempts INT, p_timeout_seconds INT, p_month TEXT,
                p_max_active BIGINT, p_max_per_month BIGINT,
                p_idempotency_key TEXT, p_status_code INT, p_response BYTEA, p_channel TEXT,
                p_fhe TEXT, p_stored_bytes BIGINT, p_fhe_bootstraps BIGINT
            ) RETURNS TEXT LANGUAGE plpgsql AS $$
            DECLARE
                v_active BIGINT;
                v_submitted BIGINT;
            BEGIN
                -- One insert per tenant at a time: counting, then inserting, is only safe when no
                -- other insert of the tenant can slip in between (READ COMMITTED would let it).
                PERFORM pg_advisory_xact_lock(p_lock_class, hashtext(p_tenant));
                SELECT active INTO v_active FROM tenant_active_jobs WHERE tenant = p_tenant;
                IF coalesce(v_active, 0) >= p_max_active THEN RETURN 'active_quota'; END IF;
                SELECT jobs_submitted INTO v_submitted FROM usage WHERE tenant = p_tenant AND month = p_month;
                IF coalesce(v_submitted, 0) >= p_max_per_month THEN RETURN 'monthly_quota'; END IF;
                INSERT INTO jobs (id, tenant, owner, type, status, priority, use_fhe, payload, created_at, updated_at,
                                  run_after, attempts, max_attempts, timeout_seconds, fhe)
                VALUES (p_id, p_tenant, p_owner, p_type, 'queued', p_priority, p_use_fhe, p_payload, p_created_at, p_created_at,
                        p_created_at, 0, p_max_attempts, p_timeout_seconds, p_fhe);
                INSERT INTO usage (tenant, month, jobs_submitted, bytes_stored, fhe_bootstraps)
                VALUES (p_tenant, p_month, 1, p_stored_bytes, p_fhe_bootstraps)
                ON CONFLICT (tenant, month) DO UPDATE SET jobs_submitted = usage.jobs_submitted + 1,
                                                          bytes_stored = usage.bytes_stored + excluded.bytes_stored,
                                                          fhe_bootstraps = usage.fhe_bootstraps + excluded.fhe_bootstraps;
                IF p_idempotency_key IS NOT NULL THEN
                    UPDATE idempotency_keys SET state = 'completed', status_code = p_status_code, job_id = p_id, response = p_response
                    WHERE tenant = p_tenant AND key = p_idempotency_key;
                END IF;
                -- Delivered to other processes' idle workers at commit, and not at all on rollback.
                PERFORM pg_notify(p_channel, '');
                RETURN 'inserted';
            END
            $$
            """,
        ]),
        // Client-key mode: the server keys owners upload (their bytes are blobs).
        Migration(version: 7, name: "uploaded server keys", statements: [
            """
            CREATE TABLE fhe_server_keys (
                tenant TEXT NOT NULL,
                owner TEXT NOT NULL,
                id TEXT NOT NULL,
                parameter_set TEXT NOT NULL,
                parameter_fingerprint TEXT NOT NULL,
                bytes BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (tenant, owner, id)
            )
            """,
        ]),
        // Result retrieval: the nonces each job's retrievals used (each succeeds once).
        Migration(version: 8, name: "retrieval nonces", statements: [
            """
            CREATE TABLE fhe_retrieval_nonces (
                job_id UUID NOT NULL,
                nonce TEXT NOT NULL,
                used_at BIGINT NOT NULL,
                PRIMARY KEY (job_id, nonce)
            )
            """,
        ]),
        // The one signing key of the service, recorded by its first process: replicas with
        // another key refuse to start.
        Migration(version: 9, name: "service identity", statements: [
            """
            CREATE TABLE service_identity (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                signing_key TEXT NOT NULL,
                registered_at BIGINT NOT NULL
            )
            """,
        ]),
        // Each idempotency reservation names the request that holds it; a job is inserted
        // (and the reservation completed) only under the claim that holds the key, checked
        // with the row locked, so a request that stalled past its lapse cannot complete the
        // reservation of the request that took the key over. Wraps migration 6's function.
        Migration(version: 10, name: "idempotency reservation holders", statements: [
            "ALTER TABLE idempotency_keys ADD COLUMN holder UUID",
            """
            CREATE FUNCTION fhe_insert_claimed_job(
                p_holder UUID, p_lock_class INT, p_id UUID, p_tenant TEXT, p_owner TEXT, p_type TEXT, p_priority INT,
                p_use_fhe BOOLEAN, p_payload TEXT, p_created_at BIGINT, p_max_attempts INT, p_timeout_seconds INT, p_month TEXT,
                p_max_active BIGINT, p_max_per_month BIGINT,
                p_idempotency_key TEXT, p_status_code INT, p_response BYTEA, p_channel TEXT,
                p_fhe TEXT, p_stored_bytes BIGINT, p_fhe_bootstraps BIGINT
            ) RETURNS TEXT LANGUAGE plpgsql AS $$
            BEGIN
                IF p_idempotency_key IS NOT NULL THEN
                    PERFORM 1 FROM idempotency_keys
                    WHERE tenant = p_tenant AND key = p_idempotency_key AND state = 'in_progress' AND holder = p_holder
                    FOR UPDATE;
                    IF NOT FOUND THEN RETURN 'reservation_lost'; END IF;
                END IF;
                RETURN fhe_insert_job(p_lock_class, p_id, p_tenant, p_owner, p_type, p_priority, p_use_fhe, p_payload,
                                      p_created_at, p_max_attempts, p_timeout_seconds, p_month, p_max_active, p_max_per_month,
                                      p_idempotency_key, p_status_code, p_response, p_channel, p_fhe, p_stored_bytes,
                                      p_fhe_bootstraps);
            END
            $$
            """,
        ]),
        // Refresh-token rotation for the dev token issuer: families, and each token by its
        // SHA-256 only (RefreshTokenStore).
        Migration(version: 11, name: "refresh tokens", statements: [
            """
            CREATE TABLE refresh_token_families (
                id UUID PRIMARY KEY,
                tenant TEXT NOT NULL,
                subject TEXT NOT NULL,
                role TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                revoked_at BIGINT,
                revocation_reason TEXT
            )
            """,
            """
            CREATE TABLE refresh_tokens (
                token_hash TEXT PRIMARY KEY,
                family_id UUID NOT NULL REFERENCES refresh_token_families (id) ON DELETE CASCADE,
                issued_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                used_at BIGINT
            )
            """,
            "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id, issued_at)",
        ]),
        // Webhooks: a job's callback URL, and a delivery made by a trigger in the transaction
        // that moves the job to a state that is announced, so no crash loses one
        // (WebhookStore); each attempt's outcome is kept beside it. The trigger runs under the
        // job row's lock (the UPDATE holds it), so a job's sequence numbers do not race.
        Migration(version: 12, name: "webhook deliveries", statements: [
            "ALTER TABLE jobs ADD COLUMN callback_url TEXT",
            """
            CREATE TABLE webhook_deliveries (
                job_id UUID NOT NULL,
                sequence INTEGER NOT NULL,
                event TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                next_attempt_at BIGINT NOT NULL,
                lease_owner TEXT,
                lease_expires_at BIGINT,
                finished_at BIGINT,
                PRIMARY KEY (job_id, sequence)
            )
            """,
            "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending'",
            """
            CREATE TABLE webhook_attempts (
                job_id UUID NOT NULL,
                sequence INTEGER NOT NULL,
                number INTEGER NOT NULL,
                at BIGINT NOT NULL,
                status_code INTEGER,
                error TEXT,
                duration_seconds DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (job_id, sequence, number)
            )
            """,
            """
            CREATE FUNCTION fhe_webhook_event() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO webhook_deliveries (job_id, sequence, event, state, attempts, created_at, next_attempt_at)
                VALUES (NEW.id, (SELECT coalesce(max(sequence), 0) + 1 FROM webhook_deliveries WHERE job_id = NEW.id),
                        'job.' || NEW.status, 'pending', 0, NEW.updated_at, NEW.updated_at);
                RETURN NULL;
            END
            $$
            """,
            """
            CREATE TRIGGER jobs_webhook_events AFTER UPDATE OF status ON jobs
            FOR EACH ROW
            WHEN (NEW.callback_url IS NOT NULL AND NEW.status IS DISTINCT FROM OLD.status
                  AND NEW.status IN ('succeeded', 'failed', 'cancelled', 'confirmed'))
            EXECUTE FUNCTION fhe_webhook_event()
            """,
        ]),
        // A submission in one statement, so in one round trip and one commit: migration 10's
        // claimed insert, the callback URL (migration 12) and the submission's audit record,
        // which the API wrote in a transaction of its own before. Called without BEGIN and
        // COMMIT, the statement is its own transaction. The earlier functions stay, for
        // processes of the previous version during a rolling deploy. And rate-limit tokens
        // taken in batches (PostgresRateLimiter).
        Migration(version: 13, name: "submission with its audit record in one statement; token batches", statements: [
            // How many tokens the last take got: a process takes several at once
            // (PostgresRateLimiter). `last_allowed` stays for processes of the previous version.
            "ALTER TABLE rate_limit_buckets ADD COLUMN last_taken DOUBLE PRECISION NOT NULL DEFAULT 0",
            """
            CREATE FUNCTION fhe_submit_job(
                p_holder UUID, p_lock_class INT, p_id UUID, p_tenant TEXT, p_owner TEXT, p_type TEXT, p_priority INT,
                p_use_fhe BOOLEAN, p_payload TEXT, p_created_at BIGINT, p_max_attempts INT, p_timeout_seconds INT, p_month TEXT,
                p_max_active BIGINT, p_max_per_month BIGINT,
                p_idempotency_key TEXT, p_status_code INT, p_response BYTEA, p_channel TEXT,
                p_fhe TEXT, p_stored_bytes BIGINT, p_fhe_bootstraps BIGINT, p_callback_url TEXT,
                p_audit_at BIGINT, p_audit_tenant TEXT, p_audit_actor TEXT, p_audit_action TEXT, p_audit_target TEXT, p_audit_outcome TEXT,
                p_audit_request_id TEXT
            ) RETURNS TEXT LANGUAGE plpgsql AS $$
            DECLARE
                v_outcome TEXT;
            BEGIN
                v_outcome := fhe_insert_claimed_job(p_holder, p_lock_class, p_id, p_tenant, p_owner, p_type, p_priority,
                                                    p_use_fhe, p_payload, p_created_at, p_max_attempts, p_timeout_seconds,
                                                    p_month, p_max_active, p_max_per_month, p_idempotency_key, p_status_code,
                                                    p_response, p_channel, p_fhe, p_stored_bytes, p_fhe_bootstraps);
                IF v_outcome <> 'inserted' THEN RETURN v_outcome; END IF;
                IF p_callback_url IS NOT NULL THEN
                    UPDATE jobs SET callback_url = p_callback_url WHERE id = p_id;
                END IF;
                IF p_audit_action IS NOT NULL THEN
                    INSERT INTO audit (at, tenant, actor, action, target, outcome, request_id)
                    VALUES (p_audit_at, p_audit_tenant, p_audit_actor, p_audit_action, p_audit_target, p_audit_outcome, p_audit_request_id);
                END IF;
                RETURN v_outcome;
            END
            $$
            """,
        ]),
        // Group commit (PostgresSubmissionBatch): the submissions gathered while a statement
        // was in flight, written by one statement, so one round trip and one commit for all,
        // each row with migration 13's outcome and semantics. Rows are arrays of columns
        // (element i of each is row i); the answer is each row's outcome, in order. The
        // tenants' insert locks are taken in one order (the lock key's, then the name's), so
        // batches that share tenants wait for each other in turn, never in a cycle. A row
        // counts the rows before it of its tenant, as if each had been its own statement.
        // One NOTIFY per batch. The earlier functions stay, for processes of the previous
        // version during a rolling deploy.
        Migration(version: 14, name: "submissions in batches (group commit)", statements: [
            """
            CREATE FUNCTION fhe_submit_jobs(
                p_lock_class INT, p_channel TEXT,
                p_holder UUID[], p_id UUID[], p_tenant TEXT[], p_owner TEXT[], p_type TEXT[], p_priority INT[],
                p_use_fhe BOOLEAN[], p_payload TEXT[], p_created_at BIGINT[], p_max_attempts INT[], p_timeout_seconds INT[],
                p_month TEXT[], p_max_active BIGINT[], p_max_per_month BIGINT[],
                p_idempotency_key TEXT[], p_status_code INT[], p_response BYTEA[],
                p_fhe TEXT[], p_stored_bytes BIGINT[], p_fhe_bootstraps BIGINT[], p_callback_url TEXT[],
                p_audit_at BIGINT[], p_audit_tenant TEXT[], p_audit_actor TEXT[], p_audit_action TEXT[], p_audit_target TEXT[],
                p_audit_outcome TEXT[], p_audit_request_id TEXT[]
            ) RETURNS TEXT[] LANGUAGE plpgsql AS $$
            DECLARE
                v_count INT := coalesce(cardinality(p_id), 0);
                -- '' until decided: an array with NULLs keeps a null bitmap, which postgres-nio 1.33
                -- does not decode.
                v_outcome TEXT[] := array_fill(''::text, ARRAY[v_count]);
                v_row INT;
                v_tenant TEXT;
                v_month TEXT;
                v_active BIGINT;
                v_submitted BIGINT;
            BEGIN
                -- A claim that no longer holds its key inserts nothing (migration 10), checked
                -- with the key's row locked until the commit. Row by row: each is one lookup of
                -- the primary key, whatever the planner would make of a join with the batch.
                FOR v_row IN 1..v_count LOOP
                    CONTINUE WHEN p_idempotency_key[v_row] IS NULL;
                    PERFORM 1 FROM idempotency_keys
                    WHERE tenant = p_tenant[v_row] AND key = p_idempotency_key[v_row] AND state = 'in_progress'
                      AND holder = p_holder[v_row]
                    FOR UPDATE;
                    IF NOT FOUND THEN v_outcome[v_row] := 'reservation_lost'; END IF;
                END LOOP;
                -- One insert per tenant at a time (migration 4), the locks in one order.
                FOR v_tenant IN SELECT t FROM (SELECT DISTINCT t FROM unnest(p_tenant) AS t) tenants ORDER BY hashtext(t), t LOOP
                    PERFORM pg_advisory_xact_lock(p_lock_class, hashtext(v_tenant));
                END LOOP;
                -- The quotas, row by row in each tenant's order, counting the rows admitted before.
                v_tenant := NULL;
                FOR v_row IN SELECT r.i FROM generate_subscripts(p_id, 1) AS r(i) ORDER BY p_tenant[r.i], p_month[r.i], r.i LOOP
                    IF v_tenant IS DISTINCT FROM p_tenant[v_row] THEN
                        v_tenant := p_tenant[v_row];
                        v_month := NULL;
                        SELECT active INTO v_active FROM tenant_active_jobs WHERE tenant = v_tenant;
                        v_active := coalesce(v_active, 0);
                    END IF;
                    IF v_month IS DISTINCT FROM p_month[v_row] THEN
                        v_month := p_month[v_row];
                        SELECT jobs_submitted INTO v_submitted FROM usage WHERE tenant = v_tenant AND month = v_month;
                        v_submitted := coalesce(v_submitted, 0);
                    END IF;
                    IF v_outcome[v_row] <> '' THEN CONTINUE; END IF;
                    IF v_active >= p_max_active[v_row] THEN
                        v_outcome[v_row] := 'active_quota';
                    ELSIF v_submitted >= p_max_per_month[v_row] THEN
                        v_outcome[v_row] := 'monthly_quota';
                    ELSE
                        v_outcome[v_row] := 'inserted';
                        v_active := v_active + 1;
                        v_submitted := v_submitted + 1;
                    END IF;
                END LOOP;
                IF NOT ('inserted' = ANY(v_outcome)) THEN RETURN v_outcome; END IF;

                INSERT INTO jobs (id, tenant, owner, type, status, priority, use_fhe, payload, created_at, updated_at,
                                  run_after, attempts, max_attempts, timeout_seconds, fhe, callback_url)
                SELECT p_id[r.i], p_tenant[r.i], p_owner[r.i], p_type[r.i], 'queued', p_priority[r.i], p_use_fhe[r.i], p_payload[r.i],
                       p_created_at[r.i], p_created_at[r.i], p_created_at[r.i], 0, p_max_attempts[r.i], p_timeout_seconds[r.i],
                       p_fhe[r.i], p_callback_url[r.i]
                FROM generate_subscripts(p_id, 1) AS r(i) WHERE v_outcome[r.i] = 'inserted'
                ORDER BY p_tenant[r.i], r.i;
                INSERT INTO usage (tenant, month, jobs_submitted, bytes_stored, fhe_bootstraps)
                SELECT p_tenant[r.i], p_month[r.i], count(*), sum(p_stored_bytes[r.i])::bigint, sum(p_fhe_bootstraps[r.i])::bigint
                FROM generate_subscripts(p_id, 1) AS r(i) WHERE v_outcome[r.i] = 'inserted'
                GROUP BY p_tenant[r.i], p_month[r.i] ORDER BY p_tenant[r.i], p_month[r.i]
                ON CONFLICT (tenant, month) DO UPDATE SET jobs_submitted = usage.jobs_submitted + excluded.jobs_submitted,
                                                          bytes_stored = usage.bytes_stored + excluded.bytes_stored,
                                                          fhe_bootstraps = usage.fhe_bootstraps + excluded.fhe_bootstraps;
                FOR v_row IN 1..v_count LOOP
                    CONTINUE WHEN p_idempotency_key[v_row] IS NULL OR v_outcome[v_row] <> 'inserted';
                    UPDATE idempotency_keys
                    SET state = 'completed', status_code = p_status_code[v_row], job_id = p_id[v_row], response = p_response[v_row]
                    WHERE tenant = p_tenant[v_row] AND key = p_idempotency_key[v_row];
                END LOOP;
                INSERT INTO audit (at, tenant, actor, action, target, outcome, request_id)
                SELECT p_audit_at[r.i], p_audit_tenant[r.i], p_audit_actor[r.i], p_audit_action[r.i], p_audit_target[r.i],
                       p_audit_outcome[r.i], p_audit_request_id[r.i]
                FROM generate_subscripts(p_id, 1) AS r(i) WHERE v_outcome[r.i] = 'inserted' AND p_audit_action[r.i] IS NOT NULL
                ORDER BY r.i;
                -- Delivered to other processes' idle workers at commit, and not at all on rollback.
                PERFORM pg_notify(p_channel, '');
                RETURN v_outcome;
            END
            $$
            """,
        ]),
    ]
}
