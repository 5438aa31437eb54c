-- A gateway database as version 6 of the schema left it (ApprovalBot with escalation, before shared keys):
-- the migration scripts exactly as they shipped, then rows as that version wrote them.
-- Never edit: GatewayStoreMigrationTests upgrades this file and compares it with a fresh database.
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    upstream TEXT NOT NULL,
    agent TEXT NOT NULL,
    arguments_redacted TEXT NOT NULL,
    digest TEXT NOT NULL,
    reason TEXT,
    rule TEXT NOT NULL,
    approvers TEXT NOT NULL,
    approvals_required INTEGER NOT NULL,
    approved_by TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL,
    wait_mode TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_by TEXT,
    decided_by_name TEXT,
    decided_channel TEXT,
    comment TEXT,
    resolved_at INTEGER,
    claimed_at INTEGER,
    instance TEXT NOT NULL,
    request_published INTEGER NOT NULL DEFAULT 0,
    resolution_published INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_approvals_status_expiry ON approvals (status, expires_at);
CREATE INDEX ix_approvals_identity ON approvals (agent, tool, digest, status);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    agent TEXT,
    tool TEXT,
    decision TEXT NOT NULL,
    rule TEXT,
    reason TEXT,
    duration_ms REAL,
    digest TEXT,
    approval_id TEXT,
    actor TEXT,
    channel TEXT
);
CREATE INDEX ix_audit_at ON audit (at);
CREATE INDEX ix_audit_approval ON audit (approval_id);
CREATE TABLE decisions_seen (
    decision_id TEXT PRIMARY KEY,
    approval_id TEXT NOT NULL,
    at INTEGER NOT NULL
);

-- version 2: redeemable approvals and MCP tasks (the script as shipped)
CREATE INDEX ix_approvals_redeem ON approvals (agent, tool, digest, requested_at);
CREATE INDEX ix_approvals_lapse ON approvals (status, claimed_at, resolved_at);
CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    tool TEXT NOT NULL,
    approval_id TEXT,
    status TEXT NOT NULL,
    status_message TEXT,
    result TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ttl_ms INTEGER NOT NULL,
    instance TEXT NOT NULL
);
CREATE INDEX ix_tasks_agent ON tasks (agent, created_at);
CREATE INDEX ix_tasks_status ON tasks (status, instance);

-- version 3: audit queries, card posts, webhook outbox (the script as shipped)
ALTER TABLE audit ADD COLUMN reference TEXT;
-- Filters read newest first: each index ends in at (and the rowid), so a page is an index range, not a sort.
CREATE INDEX ix_audit_agent_at ON audit (agent, at);
CREATE INDEX ix_audit_tool_at ON audit (tool, at);
CREATE INDEX ix_audit_decision_at ON audit (decision, at);
CREATE TABLE cards_posted (
    approval_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    reference TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (approval_id, channel, reference)
);
CREATE TABLE webhook_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    last_attempt_at INTEGER,
    delivered_at INTEGER
);
CREATE INDEX ix_outbox_due ON webhook_outbox (status, next_attempt_at);
CREATE INDEX ix_outbox_webhook ON webhook_outbox (webhook, status);
CREATE INDEX ix_approvals_resolved ON approvals (resolved_at);

-- version 4: time-boxed grants (the script as shipped)
CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    approval_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    tool TEXT NOT NULL,
    upstream TEXT NOT NULL,
    rule TEXT NOT NULL,
    rule_fingerprint TEXT NOT NULL,
    scope TEXT NOT NULL,
    digest TEXT,
    granted_by TEXT NOT NULL,
    granted_by_name TEXT NOT NULL,
    channel TEXT NOT NULL,
    revokers TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER,
    end_reason TEXT,
    ended_by TEXT,
    ended_by_name TEXT,
    end_comment TEXT,
    instance TEXT NOT NULL,
    created_published INTEGER NOT NULL DEFAULT 0,
    ended_published INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_grants_active ON grants (agent, tool) WHERE ended_at IS NULL;
CREATE INDEX ix_grants_expiry ON grants (expires_at) WHERE ended_at IS NULL;
CREATE INDEX ix_grants_created ON grants (created_at);
ALTER TABLE approvals ADD COLUMN grants_offered TEXT;
ALTER TABLE approvals ADD COLUMN grant_scope TEXT;
ALTER TABLE approvals ADD COLUMN rule_fingerprint TEXT;
ALTER TABLE approvals ADD COLUMN grant_id TEXT;
ALTER TABLE audit ADD COLUMN grant_id TEXT;

-- version 5: edit then approve (the script as shipped)
ALTER TABLE approvals ADD COLUMN editable INTEGER NOT NULL DEFAULT 0;
ALTER TABLE approvals ADD COLUMN edited_arguments TEXT;
ALTER TABLE approvals ADD COLUMN edited_digest TEXT;

-- version 6: escalation and reminders (the script as shipped)
ALTER TABLE approvals ADD COLUMN escalate_at INTEGER;
ALTER TABLE approvals ADD COLUMN escalate_to TEXT;
ALTER TABLE approvals ADD COLUMN escalated_at INTEGER;
ALTER TABLE approvals ADD COLUMN reminded_at INTEGER;
CREATE INDEX ix_approvals_escalation ON approvals (escalate_at) WHERE status = 'Pending' AND escalated_at IS NULL;

INSERT INTO schema_version VALUES (1, 'approvals and audit', '2026-06-01T08:00:00.0000000+00:00');
INSERT INTO schema_version VALUES (2, 'redeemable approvals and MCP tasks', '2026-06-01T08:00:00.0000000+00:00');
INSERT INTO schema_version VALUES (3, 'audit queries, card posts, webhook outbox', '2026-06-01T08:00:00.0000000+00:00');
INSERT INTO schema_version VALUES (4, 'time-boxed grants', '2026-06-01T08:00:00.0000000+00:00');
INSERT INTO schema_version VALUES (5, 'edit then approve', '2026-06-01T08:00:00.0000000+00:00');
INSERT INTO schema_version VALUES (6, 'escalation and reminders', '2026-06-01T08:00:00.0000000+00:00');

-- 2026-06-01 09:00 UTC = 1780304400000 ms
INSERT INTO approvals (id, tool, upstream, agent, arguments_redacted, digest, reason, rule, approvers, approvals_required, approved_by,
                       status, wait_mode, requested_at, expires_at, decided_by, decided_by_name, decided_channel, comment, resolved_at,
                       claimed_at, instance, request_published, resolution_published) VALUES
 ('11111111-0000-0000-0000-000000000001', 'agentwork_cancel_task', 'agentwork', 'ci-bot', '{"task_id":"T-100","api_key":"[redacted]"}', 'digest-pending',
  'Cancels a task', 'rules.agentwork_cancel_task', '["slack:UALICE","console:admin"]', 1, '[]',
  'Pending', 'block', 1780304400000, 1780305000000, NULL, NULL, NULL, NULL, NULL, NULL, 'gw-1', 0, 1),
 ('11111111-0000-0000-0000-000000000002', 'agentwork_cancel_task', 'agentwork', 'ci-bot', '{"task_id":"T-101"}', 'digest-running',
  'Cancels a task', 'rules.agentwork_cancel_task', '["slack:UALICE"]', 1, '["slack:UALICE"]',
  'Approved', 'block', 1780304400000, 1780305000000, 'slack:UALICE', 'Alice', 'slack', NULL, 1780304460000, 1780304461000, 'gw-1', 1, 1),
 ('11111111-0000-0000-0000-000000000003', 'agentwork_delete_inventory', 'agentwork', 'ops-agent', '{"name":"staging"}', 'digest-executed',
  NULL, 'rules.agentwork_delete_inventory', '[]', 2, '["slack:UALICE","teams:c0ffee"]',
  'Executed', 'retry', 1780304400000, 1780305000000, 'teams:c0ffee', 'Carol', 'teams', 'go', 1780304500000, 1780304510000, 'gw-1', 1, 1),
 ('11111111-0000-0000-0000-000000000004', 'agentwork_cancel_job', 'agentwork', 'ci-bot', '{"id":7}', 'digest-denied',
  'Stops a deployment', 'rules.agentwork_cancel_job', '["console:admin"]', 1, '[]',
  'Denied', 'block', 1780304400000, 1780305000000, 'console:admin', 'console admin', 'console', 'not during the release', 1780304600000, NULL, 'gw-2', 1, 0),
 ('11111111-0000-0000-0000-000000000005', 'agentwork_cancel_job', 'agentwork', 'ci-bot', '{"id":8}', 'digest-expired',
  NULL, 'rules.agentwork_cancel_job', '[]', 1, '[]',
  'Expired', 'block', 1780304400000, 1780304403000, NULL, NULL, NULL, NULL, 1780304403000, NULL, 'gw-1', 1, 1);

INSERT INTO audit (at, agent, tool, decision, rule, reason, duration_ms, digest, approval_id, actor, channel) VALUES
 (1780304399000, 'ci-bot', 'agentwork_list_tasks', 'allowed', 'rules.agentwork_list_*', NULL, 1.5, 'digest-list', NULL, NULL, NULL),
 (1780304400000, 'ci-bot', 'agentwork_cancel_task', 'held', 'rules.agentwork_cancel_task', NULL, NULL, 'digest-running', '11111111-0000-0000-0000-000000000002', NULL, NULL),
 (1780304460000, 'ci-bot', 'agentwork_cancel_task', 'approved', 'rules.agentwork_cancel_task', NULL, NULL, 'digest-running', '11111111-0000-0000-0000-000000000002', 'slack:UALICE', 'slack');

INSERT INTO decisions_seen (decision_id, approval_id, at) VALUES
 ('22222222-0000-0000-0000-000000000001', '11111111-0000-0000-0000-000000000002', 1780304460000);
