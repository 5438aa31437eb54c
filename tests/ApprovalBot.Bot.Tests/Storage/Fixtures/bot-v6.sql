-- A bot database as version 6 of the schema left it: the migration scripts exactly as they shipped
-- (commit 5c59c65), then rows as that version wrote them. Never edit: BotStoreUpgradeTests upgrades this
-- file and compares it with a fresh database.
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    tool TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_by TEXT,
    comment TEXT,
    resolved_at INTEGER,
    succeeded INTEGER,
    execution_summary TEXT
);
CREATE INDEX ix_approvals_status ON approvals (status, requested_at);
CREATE INDEX ix_approvals_resolved ON approvals (resolved_at);
CREATE TABLE cards (
    approval_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    reference TEXT NOT NULL,
    PRIMARY KEY (approval_id, channel, reference)
);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX ix_approvals_resolved_status ON approvals (resolved_at, status);

-- version 3: agent waiting, collect-by and lapsed (as shipped)
ALTER TABLE approvals ADD COLUMN agent_waiting INTEGER NOT NULL DEFAULT 1;
ALTER TABLE approvals ADD COLUMN waiting_at INTEGER;
ALTER TABLE approvals ADD COLUMN collect_by INTEGER;
ALTER TABLE approvals ADD COLUMN lapsed_at INTEGER;
CREATE INDEX ix_approvals_awaiting_collection ON approvals (collect_by)
    WHERE status = 'Approved' AND succeeded IS NULL AND collect_by IS NOT NULL;

-- version 4: time-boxed grants (as shipped)
ALTER TABLE approvals ADD COLUMN grant_id TEXT;
ALTER TABLE approvals ADD COLUMN grant_until INTEGER;
CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    grant_created TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER,
    end_reason TEXT,
    ended_by TEXT,
    end_comment TEXT
);
CREATE INDEX ix_grants_open ON grants (expires_at) WHERE ended_at IS NULL;
CREATE INDEX ix_grants_created ON grants (created_at);

-- version 5: edit then approve (as shipped)
ALTER TABLE approvals ADD COLUMN edited_arguments TEXT;

-- version 6: escalation (as shipped)
ALTER TABLE approvals ADD COLUMN escalated_at INTEGER;
ALTER TABLE approvals ADD COLUMN escalated_to TEXT;

INSERT INTO schema_version VALUES (1, 'read model and cards', '2026-06-01T08:00:00.0000000+00:00');
INSERT INTO schema_version VALUES (2, 'status counts from an index', '2026-06-01T08:00:00.0000000+00:00');
INSERT INTO schema_version VALUES (3, 'agent waiting, collect-by and lapsed', '2026-06-01T08:00:00.0000000+00:00');
INSERT INTO schema_version VALUES (4, 'time-boxed grants', '2026-06-01T08:00:00.0000000+00:00');
INSERT INTO schema_version VALUES (5, 'edit then approve', '2026-06-01T08:00:00.0000000+00:00');
INSERT INTO schema_version VALUES (6, 'escalation', '2026-06-01T08:00:00.0000000+00:00');

-- 2026-06-01 09:00 UTC = 1780304400000 ms; requests as the bot stored them (the ApprovalRequested JSON)
INSERT INTO approvals (id, request, tool, status, requested_at, expires_at, decided_by, comment, resolved_at, succeeded, execution_summary) VALUES ('33333333-0000-0000-0000-000000000001', '{"ApprovalId":"33333333-0000-0000-0000-000000000001","Tool":"agentwork_cancel_task","Upstream":"agentwork","Agent":"ci-bot","RedactedArguments":"{\"task_id\":\"T-1\"}","ArgumentDigest":"d-1","Reason":"Cancels a task","Approvers":["slack:UALICE","console:admin"],"ApprovalsRequired":1,"RequestedAt":"2026-06-01T09:00:00+00:00","ExpiresAt":"2026-06-01T09:10:00+00:00","GatewayAddress":"rabbitmq://localhost/approvalbot-gateway-gw-1","GatewayInstance":"gw-1"}', 'agentwork_cancel_task', 'Pending', 1780304400000, 1780305000000, NULL, NULL, NULL, NULL, NULL);
INSERT INTO approvals (id, request, tool, status, requested_at, expires_at, decided_by, comment, resolved_at, succeeded, execution_summary) VALUES ('33333333-0000-0000-0000-000000000002', '{"ApprovalId":"33333333-0000-0000-0000-000000000002","Tool":"agentwork_cancel_task","Upstream":"agentwork","Agent":"ci-bot","RedactedArguments":"{\"task_id\":\"T-1\"}","ArgumentDigest":"d-2","Reason":"Cancels a task","Approvers":["slack:UALICE","console:admin"],"ApprovalsRequired":1,"RequestedAt":"2026-06-01T09:00:00+00:00","ExpiresAt":"2026-06-01T09:10:00+00:00","GatewayAddress":"rabbitmq://localhost/approvalbot-gateway-gw-1","GatewayInstance":"gw-1"}', 'agentwork_cancel_task', 'Approved', 1780304400000, 1780305000000, '{"Platform":"slack","UserId":"UALICE","DisplayName":"Alice","TenantId":"T1"}', NULL, 1780304460000, 1, 'Task T-101 cancelled.');
INSERT INTO approvals (id, request, tool, status, requested_at, expires_at, decided_by, comment, resolved_at, succeeded, execution_summary) VALUES ('33333333-0000-0000-0000-000000000003', '{"ApprovalId":"33333333-0000-0000-0000-000000000003","Tool":"agentwork_cancel_job","Upstream":"agentwork","Agent":"ci-bot","RedactedArguments":"{\"task_id\":\"T-1\"}","ArgumentDigest":"d-3","Reason":"Cancels a task","Approvers":["slack:UALICE","console:admin"],"ApprovalsRequired":1,"RequestedAt":"2026-06-01T09:00:00+00:00","ExpiresAt":"2026-06-01T09:10:00+00:00","GatewayAddress":"rabbitmq://localhost/approvalbot-gateway-gw-1","GatewayInstance":"gw-1"}', 'agentwork_cancel_job', 'Denied', 1780304400000, 1780305000000, '{"Platform":"console","UserId":"admin","DisplayName":"console admin","TenantId":null}', 'not during the release', 1780304600000, NULL, NULL);
INSERT INTO approvals (id, request, tool, status, requested_at, expires_at, decided_by, comment, resolved_at, succeeded, execution_summary) VALUES ('33333333-0000-0000-0000-000000000004', '{"ApprovalId":"33333333-0000-0000-0000-000000000004","Tool":"agentwork_cancel_job","Upstream":"agentwork","Agent":"ci-bot","RedactedArguments":"{\"task_id\":\"T-1\"}","ArgumentDigest":"d-4","Reason":"Cancels a task","Approvers":["slack:UALICE","console:admin"],"ApprovalsRequired":1,"RequestedAt":"2026-06-01T09:00:00+00:00","ExpiresAt":"2026-06-01T09:10:00+00:00","GatewayAddress":"rabbitmq://localhost/approvalbot-gateway-gw-1","GatewayInstance":"gw-1"}', 'agentwork_cancel_job', 'Expired', 1780304400000, 1780305000000, NULL, NULL, 1780305000000, NULL, NULL);
INSERT INTO approvals (id, request, tool, status, requested_at, expires_at, decided_by, comment, resolved_at, succeeded, execution_summary) VALUES ('33333333-0000-0000-0000-000000000005', '{"ApprovalId":"33333333-0000-0000-0000-000000000005","Tool":"agentwork_delete_inventory","Upstream":"agentwork","Agent":"ci-bot","RedactedArguments":"{\"task_id\":\"T-1\"}","ArgumentDigest":"d-5","Reason":"Cancels a task","Approvers":["slack:UALICE","console:admin"],"ApprovalsRequired":1,"RequestedAt":"2026-06-01T09:00:00+00:00","ExpiresAt":"2026-06-01T09:10:00+00:00","GatewayAddress":"rabbitmq://localhost/approvalbot-gateway-gw-1","GatewayInstance":"gw-1"}', 'agentwork_delete_inventory', 'Approved', 1780304400000, 1780305000000, '{"Platform":"teams","UserId":"c0ffee","DisplayName":"Carol","TenantId":null}', NULL, 1780304700000, NULL, NULL);
INSERT INTO cards (approval_id, channel, reference) VALUES ('33333333-0000-0000-0000-000000000001', 'slack', 'C0APPROVALS:1780304400.000100'), ('33333333-0000-0000-0000-000000000001', 'teams', 'conv-1|act-1');
INSERT INTO settings (key, value) VALUES ('teams.conversation', '{"id":"conv-1"}');
