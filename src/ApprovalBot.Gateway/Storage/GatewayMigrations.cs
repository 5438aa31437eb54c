using ApprovalBot.Storage;

namespace ApprovalBot.Gateway.Storage;

/// <summary>The gateway database's schema, one script per version. Never edit a shipped script: add one.</summary>
internal static class GatewayMigrations
{
    public static readonly MigrationSet All = new(Sqlite(), Postgres());

    private static IReadOnlyList<Migration> Postgres() => [];

    private static IReadOnlyList<Migration> Sqlite() =>
    [
        new(1, "approvals and audit", """
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
            """),
        new(2, "redeemable approvals and MCP tasks", """
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
            """),
        new(3, "audit queries, card posts, webhook outbox", """
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
            """),
        // What a grant needs from its approval is copied at open time (offered durations, scope, the
        // rule's fingerprint), so a card's buttons and the grant agree even if the policy changes meanwhile.
        new(4, "time-boxed grants", """
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
            """),
        // The edit is stored as the approver wrote it: masked values stay masked (the originals are
        // put back from the agent's own call at run time), so this column holds no secret.
        new(5, "edit then approve", """
            ALTER TABLE approvals ADD COLUMN editable INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE approvals ADD COLUMN edited_arguments TEXT;
            ALTER TABLE approvals ADD COLUMN edited_digest TEXT;
            """),
        new(6, "escalation and reminders", """
            ALTER TABLE approvals ADD COLUMN escalate_at INTEGER;
            ALTER TABLE approvals ADD COLUMN escalate_to TEXT;
            ALTER TABLE approvals ADD COLUMN escalated_at INTEGER;
            ALTER TABLE approvals ADD COLUMN reminded_at INTEGER;
            CREATE INDEX ix_approvals_escalation ON approvals (escalate_at) WHERE status = 'Pending' AND escalated_at IS NULL;
            """),
    ];
}
