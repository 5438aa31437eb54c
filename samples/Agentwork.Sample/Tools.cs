using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace Agentwork.Sample;

[McpServerToolType]
public sealed class AgentworkTools(WorkState state)
{
    [McpServerTool(Name = "list_tasks", ReadOnly = true, Idempotent = true), Description("Lists Agentwork tasks and their status.")]
    public string ListTasks() => JsonSerializer.Serialize(state.Tasks.Values.OrderBy(t => t.Id));

    [McpServerTool(Name = "cancel_task", Destructive = true), Description("Cancels a running Agentwork task. Cannot be undone.")]
    public string CancelTask(
        [Description("The task id, e.g. T-100")] string task_id,
        [Description("Agentwork API key")] string api_key)
    {
        // The key check proves the real secret reached the upstream even though nobody upstream of it saw it.
        var expected = Environment.GetEnvironmentVariable("AGENTWORK_API_KEY");
        if (string.IsNullOrEmpty(api_key) || (!string.IsNullOrEmpty(expected) && api_key != expected))
        {
            throw new McpException("invalid api_key");
        }

        if (!state.Tasks.TryGetValue(task_id, out var task))
        {
            throw new McpException($"no task {task_id}");
        }

        if (task.Status == "cancelled")
        {
            return $"Task {task_id} was already cancelled.";
        }

        state.Tasks[task_id] = task with { Status = "cancelled" };
        // Replicas of a gateway each start their own sample: a shared log counts executions across all of them.
        if (Environment.GetEnvironmentVariable("AGENTWORK_EXECUTION_LOG") is { Length: > 0 } log)
        {
            File.AppendAllText(log, $"cancel_task {task_id}\n");
        }

        return $"Task {task_id} ({task.Title}) cancelled.";
    }
}

[McpServerToolType]
public sealed class AwxTools(WorkState state)
{
    [McpServerTool(Name = "list_jobs", ReadOnly = true, Idempotent = true), Description("Lists AWX jobs.")]
    public string ListJobs() => JsonSerializer.Serialize(state.Jobs.Values.OrderBy(j => j.Id));

    [McpServerTool(Name = "cancel_job", Destructive = true), Description("Cancels an AWX job.")]
    public string CancelJob([Description("The job id")] int id)
    {
        if (!state.Jobs.TryGetValue(id, out var job))
        {
            throw new McpException($"no job {id}");
        }

        state.Jobs[id] = job with { Status = "canceled" };
        return $"Job {id} ({job.Name}) canceled.";
    }

    [McpServerTool(Name = "delete_inventory", Destructive = true), Description("Deletes an AWX inventory.")]
    public string DeleteInventory([Description("Inventory name")] string name) => $"Inventory {name} deleted.";

    [McpServerTool(Name = "ping", ReadOnly = true, Idempotent = true), Description("Answers pong; the cheapest call, for benchmarks.")]
    public string Ping() => "pong";
}
