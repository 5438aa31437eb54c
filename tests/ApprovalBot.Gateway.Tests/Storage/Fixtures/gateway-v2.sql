-- A gateway database as version 2 of the schema left it (ApprovalBot before durable approvals):
-- the migration script exactly as it shipped (commit 97d451b), then rows as that version wrote them.
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

INSERT INTO schema_version VALUES (1, 'approvals and audit', '2026-06-01T08:00:00.0000000+00:00');
INSERT INTO schema_version VALUES (2, 'redeemable approvals and MCP tasks', '2026-06-01T08:00:00.0000000+00:00');

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
