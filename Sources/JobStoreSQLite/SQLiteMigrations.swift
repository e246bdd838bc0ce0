import GRDB

/// The versioned schema of the SQLite store. Times are microseconds since 1970 (INTEGER), so
/// they sort and compare exactly; the PostgreSQL store keeps the same columns.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: jobs, idempotency keys, usage, audit, ledger") { db in
            try db.execute(sql: """
                CREATE TABLE jobs (
                    id TEXT PRIMARY KEY,
                    tenant TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    type TEXT NOT NULL,
                    status TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    use_fhe INTEGER NOT NULL,
                    payload TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    started_at INTEGER,
                    finished_at INTEGER,
                    run_after INTEGER NOT NULL,
                    attempts INTEGER NOT NULL,
                    max_attempts INTEGER NOT NULL,
                    timeout_seconds INTEGER NOT NULL,
                    lease_owner TEXT,
                    lease_expires_at INTEGER,
                    result TEXT,
                    result_hash TEXT,
                    error_code TEXT,
                    error_message TEXT,
                    confirmation_kind TEXT,
                    confirmation_ref TEXT,
                    confirmation_block INTEGER,
                    confirmed_at INTEGER
                );
                CREATE INDEX jobs_queue ON jobs (priority DESC, created_at, id) WHERE status = 'queued';
                CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
                CREATE INDEX jobs_awaiting_confirmation ON jobs (finished_at) WHERE status = 'succeeded';
                CREATE INDEX jobs_by_created ON jobs (created_at DESC, id DESC);
                CREATE INDEX jobs_by_tenant ON jobs (tenant, created_at DESC, id DESC);
                CREATE INDEX jobs_by_tenant_status ON jobs (tenant, status);

                CREATE TABLE idempotency_keys (
                    tenant TEXT NOT NULL,
                    key TEXT NOT NULL,
                    request_hash TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('in_progress', 'completed')),
                    status_code INTEGER,
                    job_id TEXT,
                    response BLOB,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, key)
                );

                CREATE TABLE usage (
                    tenant TEXT NOT NULL,
                    month TEXT NOT NULL,
                    jobs_submitted INTEGER NOT NULL DEFAULT 0,
                    jobs_succeeded INTEGER NOT NULL DEFAULT 0,
                    jobs_failed INTEGER NOT NULL DEFAULT 0,
                    compute_seconds REAL NOT NULL DEFAULT 0,
                    bytes_stored INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (tenant, month)
                );

                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at INTEGER NOT NULL,
                    tenant TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT,
                    outcome TEXT NOT NULL,
                    request_id TEXT NOT NULL
                );
                CREATE INDEX audit_by_tenant ON audit (tenant, id DESC);
                -- Append-only: the audit trail cannot be edited through the database either.
                CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
                CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;

                CREATE TABLE ledger (
                    sequence INTEGER PRIMARY KEY,
                    job_id TEXT NOT NULL UNIQUE,
                    result_hash TEXT NOT NULL,
                    status TEXT NOT NULL,
                    previous_hash TEXT,
                    entry_hash TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    recorded_at INTEGER NOT NULL
                );
                CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
                CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
                """)
        }
        // The active-jobs quota is checked on every submission; counting the tenant's queued
        // and running rows grows with the queue, so triggers keep the count instead.
        migrator.registerMigration("v2: active jobs per tenant, kept by triggers") { db in
            try db.execute(sql: """
                CREATE TABLE tenant_active_jobs (
                    tenant TEXT PRIMARY KEY,
                    active INTEGER NOT NULL
                );
                INSERT INTO tenant_active_jobs (tenant, active)
                SELECT tenant, count(*) FROM jobs WHERE status IN ('queued', 'running') GROUP BY tenant;
                CREATE TRIGGER jobs_count_active_insert AFTER INSERT ON jobs
                WHEN NEW.status IN ('queued', 'running')
                BEGIN
                    INSERT INTO tenant_active_jobs (tenant, active) VALUES (NEW.tenant, 1)
                    ON CONFLICT (tenant) DO UPDATE SET active = active + 1;
                END;
                CREATE TRIGGER jobs_count_active_update AFTER UPDATE OF status ON jobs
                WHEN (OLD.status IN ('queued', 'running')) <> (NEW.status IN ('queued', 'running'))
                BEGIN
                    INSERT INTO tenant_active_jobs (tenant, active)
                    VALUES (NEW.tenant, CASE WHEN NEW.status IN ('queued', 'running') THEN 1 ELSE -1 END)
                    ON CONFLICT (tenant) DO UPDATE
                    SET active = active + CASE WHEN NEW.status IN ('queued', 'running') THEN 1 ELSE -1 END;
                END;
                """)
        }
        // The chain confirmer's write-ahead log of signed transactions (ChainTransactionLog).
        migrator.registerMigration("v3: chain transactions in flight") { db in
            try db.execute(sql: """
                CREATE TABLE chain_transactions (
                    account TEXT NOT NULL,
                    nonce INTEGER NOT NULL,
                    record TEXT NOT NULL,
                    PRIMARY KEY (account, nonce)
                )
                """)
        }
        // Confidential jobs: their record (keys, input blob, quote) and progress, their metering,
        // and the owners' key sets (the secret key wrapped under the key-encryption key).
        migrator.registerMigration("v4: confidential jobs, FHE metering, key sets") { db in
            try db.execute(sql: """
                ALTER TABLE jobs ADD COLUMN fhe TEXT;
                ALTER TABLE jobs ADD COLUMN progress TEXT;
                ALTER TABLE usage ADD COLUMN fhe_bootstraps INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE usage ADD COLUMN fhe_compute_seconds REAL NOT NULL DEFAULT 0;
                CREATE TABLE fhe_key_sets (
                    id TEXT PRIMARY KEY,
                    tenant TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    parameter_set TEXT NOT NULL,
                    parameter_fingerprint TEXT NOT NULL,
                    wrapped_secret_key BLOB NOT NULL,
                    kek_id TEXT NOT NULL,
                    public_key_blob TEXT NOT NULL,
                    public_key_bytes INTEGER NOT NULL,
                    server_key_blob TEXT NOT NULL,
                    server_key_bytes INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    UNIQUE (tenant, owner, parameter_set)
                );
                """)
        }
        // Client-key mode: the server keys owners upload (their bytes are blobs).
        migrator.registerMigration("v5: uploaded server keys") { db in
            try db.execute(sql: """
                CREATE TABLE fhe_server_keys (
                    tenant TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    id TEXT NOT NULL,
                    parameter_set TEXT NOT NULL,
                    parameter_fingerprint TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, owner, id)
                )
                """)
        }
        // Result retrieval: the nonces each job's retrievals used (each succeeds once).
        migrator.registerMigration("v6: retrieval nonces") { db in
            try db.execute(sql: """
                CREATE TABLE fhe_retrieval_nonces (
                    job_id TEXT NOT NULL,
                    nonce TEXT NOT NULL,
                    used_at INTEGER NOT NULL,
                    PRIMARY KEY (job_id, nonce)
                )
                """)
        }
        // The one signing key of the service, recorded by its first process.
        migrator.registerMigration("v7: service identity") { db in
            try db.execute(sql: """
                CREATE TABLE service_identity (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    signing_key TEXT NOT NULL,
                    registered_at INTEGER NOT NULL
                )
                """)
        }
        // Each idempotency reservation names the request that holds it.
        migrator.registerMigration("v8: idempotency reservation holders") { db in
            try db.execute(sql: "ALTER TABLE idempotency_keys ADD COLUMN holder TEXT")
        }
        // Refresh-token rotation for the dev token issuer: families, and each token by its
        // SHA-256 only (RefreshTokenStore).
        migrator.registerMigration("v9: refresh tokens") { db in
            try db.execute(sql: """
                CREATE TABLE refresh_token_families (
                    id TEXT PRIMARY KEY,
                    tenant TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    role TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER,
                    revocation_reason TEXT
                );
                CREATE TABLE refresh_tokens (
                    token_hash TEXT PRIMARY KEY,
                    family_id TEXT NOT NULL REFERENCES refresh_token_families (id) ON DELETE CASCADE,
                    issued_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    used_at INTEGER
                );
                CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id, issued_at)
                """)
        }
        // Webhooks: a job's callback URL, and a delivery made by a trigger in the transaction
        // that moves the job to a state that is announced, so no crash loses one
        // (WebhookStore); each attempt's outcome is kept beside it.
        migrator.registerMigration("v10: webhook deliveries") { db in
            try db.execute(sql: """
                ALTER TABLE jobs ADD COLUMN callback_url TEXT;
                CREATE TABLE webhook_deliveries (
                    job_id TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    event TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    next_attempt_at INTEGER NOT NULL,
                    lease_owner TEXT,
                    lease_expires_at INTEGER,
                    finished_at INTEGER,
                    PRIMARY KEY (job_id, sequence)
                );
                CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
                CREATE TABLE webhook_attempts (
                    job_id TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    number INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    status_code INTEGER,
                    error TEXT,
                    duration_seconds REAL NOT NULL,
                    PRIMARY KEY (job_id, sequence, number)
                );
                CREATE TRIGGER jobs_webhook_events AFTER UPDATE OF status ON jobs
                WHEN NEW.callback_url IS NOT NULL AND NEW.status IS NOT OLD.status
                     AND NEW.status IN ('succeeded', 'failed', 'cancelled', 'confirmed')
                BEGIN
                    INSERT INTO webhook_deliveries (job_id, sequence, event, state, attempts, created_at, next_attempt_at)
                    VALUES (NEW.id, (SELECT coalesce(max(sequence), 0) + 1 FROM webhook_deliveries WHERE job_id = NEW.id),
                            'job.' || NEW.status, 'pending', 0, NEW.updated_at, NEW.updated_at);
                END;
                """)
        }
        return migrator
    }
}
