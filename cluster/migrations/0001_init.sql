-- zkaccel cluster schema, version 1.
--
-- The layout follows what proving fleets converged on (ZKsync's prover DAL, RISC Zero's
-- Bento task DB, Scroll's coordinator, Filecoin Curio's harmony tasks): a durable job table
-- in PostgreSQL, tasks claimed with FOR UPDATE SKIP LOCKED under a lease, large data in an
-- object store and only keys in rows.

CREATE TABLE zkaccel_jobs (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('msm', 'ntt', 'hash')),
    state        TEXT NOT NULL DEFAULT 'running'
                 CHECK (state IN ('running', 'done', 'failed', 'cancelled')),
    params       JSONB NOT NULL,
    verification TEXT NOT NULL CHECK (verification IN ('off', 'sampled', 'full')),
    -- Object-store prefix of the job's blobs (inputs, per-attempt outputs).
    prefix       TEXT NOT NULL,
    label        TEXT,
    -- The task whose output is the job's result, and that output's key once done.
    result_task  BIGINT,
    result_key   TEXT,
    error        TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ
);
CREATE INDEX zkaccel_jobs_state ON zkaccel_jobs (state, id);

CREATE TABLE zkaccel_tasks (
    id               BIGSERIAL PRIMARY KEY,
    job_id           BIGINT NOT NULL REFERENCES zkaccel_jobs (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL
                     CHECK (kind IN ('msm_shard', 'msm_aggregate', 'ntt', 'hash')),
    -- What a worker must be able to run ('msm:bn254-g1', 'ntt:babybear', 'hash:<id>',
    -- 'aggregate:bn254-g1'), and the size it is checked against (points, log2 n, 0).
    capability       TEXT NOT NULL,
    size             BIGINT NOT NULL DEFAULT 0,
    spec             JSONB NOT NULL,
    state            TEXT NOT NULL
                     CHECK (state IN ('waiting', 'ready', 'running', 'verifying', 'done',
                                      'failed', 'cancelled')),
    pending_deps     INT NOT NULL DEFAULT 0,
    attempts         INT NOT NULL DEFAULT 0,
    max_attempts     INT NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    worker_id        TEXT,
    lease_expires_at TIMESTAMPTZ,
    heartbeat_at     TIMESTAMPTZ,
    -- Workers whose result for this task was rejected: it is not given to them again.
    excluded_workers TEXT[] NOT NULL DEFAULT '{}',
    input_keys       TEXT[] NOT NULL DEFAULT '{}',
    output_key       TEXT,
    error            TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ
);
CREATE INDEX zkaccel_tasks_ready ON zkaccel_tasks (capability, job_id, id) WHERE state = 'ready';
CREATE INDEX zkaccel_tasks_leased ON zkaccel_tasks (lease_expires_at) WHERE state = 'running';
CREATE INDEX zkaccel_tasks_verifying ON zkaccel_tasks (id) WHERE state = 'verifying';
CREATE INDEX zkaccel_tasks_job ON zkaccel_tasks (job_id, id);

CREATE TABLE zkaccel_task_deps (
    task_id    BIGINT NOT NULL REFERENCES zkaccel_tasks (id) ON DELETE CASCADE,
    depends_on BIGINT NOT NULL REFERENCES zkaccel_tasks (id) ON DELETE CASCADE,
    -- Position of the dependency's output among the task's inputs.
    position   INT NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, depends_on),
    CHECK (task_id <> depends_on)
);
CREATE INDEX zkaccel_task_deps_reverse ON zkaccel_task_deps (depends_on);

-- One row per claim: the execution ledger.
CREATE TABLE zkaccel_task_attempts (
    task_id     BIGINT NOT NULL REFERENCES zkaccel_tasks (id) ON DELETE CASCADE,
    attempt     INT NOT NULL,
    worker_id   TEXT NOT NULL,
    claimed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    -- NULL while running; then completed (awaiting verification), accepted, rejected,
    -- failed, lease_expired, released (worker shut down) or cancelled.
    outcome     TEXT,
    error       TEXT,
    PRIMARY KEY (task_id, attempt)
);

CREATE TABLE zkaccel_workers (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          INT NOT NULL,
    capabilities TEXT[] NOT NULL,
    devices      JSONB NOT NULL,
    state        TEXT NOT NULL DEFAULT 'running',
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE zkaccel_srs (
    name        TEXT PRIMARY KEY,
    curve_group TEXT NOT NULL,
    len         BIGINT NOT NULL CHECK (len > 0),
    shard_len   BIGINT NOT NULL CHECK (shard_len > 0),
    shards      INT NOT NULL CHECK (shards > 0),
    -- Object-store prefix: shard k is at '<prefix>/shard-<k>'.
    prefix      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
