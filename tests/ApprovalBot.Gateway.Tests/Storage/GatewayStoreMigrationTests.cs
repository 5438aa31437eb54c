using ApprovalBot.Core.Approvals;
using ApprovalBot.Gateway.Storage;
using Microsoft.Data.Sqlite;

namespace ApprovalBot.Gateway.Tests.Storage;

/// <summary>
/// A gateway database of every earlier schema version (a SQL fixture per version, the scripts as they
/// shipped plus rows as that version wrote them) upgrades in place, keeps its approvals, audit and
/// decisions, and ends with exactly the schema of a new database.
/// </summary>
public sealed class GatewayStoreMigrationTests : IDisposable
{
    private static readonly DateTimeOffset Nine = new(2026, 6, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-gwstore-" + Guid.NewGuid().ToString("N"));

    public GatewayStoreMigrationTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static int Current => GatewayMigrations.All.Sqlite.Max(m => m.Version);

    public static TheoryData<int> EarlierVersions()
    {
        var data = new TheoryData<int>();
        foreach (var version in Enumerable.Range(1, Current - 1))
        {
            data.Add(version);
        }

        return data;
    }

    [Fact]
    public void Every_earlier_schema_version_has_a_fixture()
    {
        // Adding migration N+1 means adding gateway-vN.sql: the database as version N left it.
        Assert.All(Enumerable.Range(1, Current - 1), v => Assert.True(File.Exists(SchemaFixtures.FixturePath($"gateway-v{v}.sql")), $"Storage/Fixtures/gateway-v{v}.sql is missing"));
        Assert.Equal(Enumerable.Range(1, Current), GatewayMigrations.All.Sqlite.Select(m => m.Version).Order());
    }

    [Theory]
    [MemberData(nameof(EarlierVersions))]
    public async Task An_earlier_database_upgrades_to_exactly_the_schema_of_a_new_one(int version)
    {
        var old = Path.Combine(_directory, "old.db");
        var fresh = Path.Combine(_directory, "fresh.db");
        await SchemaFixtures.CreateAsync($"gateway-v{version}.sql", old);

        await new GatewayStore(old).MigrateAsync(CancellationToken.None);
        await new GatewayStore(old).MigrateAsync(CancellationToken.None); // a second start changes nothing
        await new GatewayStore(fresh).MigrateAsync(CancellationToken.None);

        Assert.Equal(Enumerable.Range(1, Current), await SchemaFixtures.VersionsAsync(old));
        Assert.Equal(await SchemaFixtures.SchemaAsync(fresh), await SchemaFixtures.SchemaAsync(old));
    }

    [Fact]
    public async Task A_version_1_database_keeps_every_approval_audit_row_and_decision_and_serves_the_new_features()
    {
        var path = Path.Combine(_directory, "gateway.db");
        await SchemaFixtures.CreateAsync("gateway-v1.sql", path);
        var store = new GatewayStore(path);

        await store.MigrateAsync(CancellationToken.None);

        var pending = (await store.GetApprovalAsync(Guid.Parse("11111111-0000-0000-0000-000000000001"), default))!;
        Assert.Equal((ApprovalStatus.Pending, "ci-bot", "block", Nine, Nine.AddMinutes(10)), (pending.Status, pending.Agent, pending.WaitMode, pending.RequestedAt, pending.ExpiresAt));
        Assert.Equal(["slack:UALICE", "console:admin"], pending.Approvers);
        Assert.Equal("""{"task_id":"T-100","api_key":"[redacted]"}""", pending.ArgumentsRedacted);
        var denied = (await store.GetApprovalAsync(Guid.Parse("11111111-0000-0000-0000-000000000004"), default))!;
        Assert.Equal((ApprovalStatus.Denied, "console:admin", "console admin", "console", "not during the release"), (denied.Status, denied.DecidedBy, denied.DecidedByName, denied.DecidedChannel, denied.Comment));
        var executed = (await store.GetApprovalAsync(Guid.Parse("11111111-0000-0000-0000-000000000003"), default))!;
        Assert.Equal(["slack:UALICE", "teams:c0ffee"], executed.ApprovedBy);
        Assert.Equal(2, executed.ApprovalsRequired);

        // What version 2 reads from the old rows: the identical call finds its approval, a claimed one is
        // "running when the process stopped", the unpublished ones are republished, a seen decision stays seen.
        Assert.Equal(pending.Id, (await store.FindLatestAsync("ci-bot", "agentwork_cancel_task", "digest-pending", default))?.Id);
        Assert.Equal(Guid.Parse("11111111-0000-0000-0000-000000000002"), Assert.Single(await store.ListClaimedUnfinishedAsync("gw-1", default)).Id);
        Assert.Equal(pending.Id, Assert.Single(await store.ListUnpublishedAsync("gw-1", default)).Id);
        Assert.Equal(denied.Id, Assert.Single(await store.ListUnpublishedAsync("gw-2", default)).Id);
        Assert.False(await store.TryRememberDecisionAsync(Guid.Parse("22222222-0000-0000-0000-000000000001"), pending.Id, Nine, default));
        Assert.Equal(1, await store.CountPendingAsync("ci-bot", default));
        Assert.Equal(["approved", "held", "allowed"], (await store.ReadAuditAsync(null, 10, default)).Select(a => a.Decision));
        Assert.Equal(new Dictionary<string, int> { ["allowed"] = 1, ["held"] = 1, ["approved"] = 1 }, await store.CountDecisionsSinceAsync(Nine.AddHours(-1), default));

        // Version 2's tasks table is there and works.
        var task = new TaskRecord("task-1", "ci-bot", "agentwork_cancel_task", pending.Id, TaskRecord.Working, "waiting", null, Nine, Nine, TimeSpan.FromHours(1), "gw-1");
        await store.InsertTaskAsync(task, default);
        Assert.Equal(task, await store.GetTaskAsync("task-1", "ci-bot", default));
        Assert.Null(await store.GetTaskAsync("task-1", "other-agent", default));

        // Old rows take part in the lifecycle like new ones.
        Assert.True(await store.TryTransitionAsync(pending.Id, ApprovalStatus.Pending, ApprovalStatus.Approved, Nine.AddMinutes(1), "slack:UALICE", "Alice", "slack", addApprover: "slack:UALICE"));
        Assert.True(await store.TryClaimAsync(pending.Id, Nine.AddMinutes(2), default));
    }
}
