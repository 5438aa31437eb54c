using System.Collections.Concurrent;

namespace Agentwork.Sample;

public sealed record TaskItem(string Id, string Title, string Status);

public sealed record JobItem(int Id, string Name, string Status);

/// <summary>In-memory state for the life of the process: cancelling really changes what list returns.</summary>
public sealed class WorkState
{
    public ConcurrentDictionary<string, TaskItem> Tasks { get; } = new(
        new[]
        {
            new TaskItem("T-100", "Nightly data export", "running"),
            new TaskItem("T-101", "Rebuild search index", "running"),
            new TaskItem("T-102", "Send invoices", "queued"),
        }.ToDictionary(t => t.Id));

    public ConcurrentDictionary<int, JobItem> Jobs { get; } = new(
        new[]
        {
            new JobItem(7, "deploy-web", "running"),
            new JobItem(8, "patch-db", "pending"),
            new JobItem(9, "backup", "successful"),
        }.ToDictionary(j => j.Id));
}
