using System.Text.Json;
using ApprovalBot.Bench.Policy;
using BenchmarkDotNet.Configs;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// ApprovalBot.Bench.Policy [--smoke] [--results DIR]
// In-process (no generated project to build), so it fits the bench's time budget; --smoke runs each case once.
var smoke = args.Contains("--smoke");
var resultsIndex = Array.IndexOf(args, "--results");
var results = resultsIndex >= 0 && resultsIndex + 1 < args.Length ? args[resultsIndex + 1] : Path.Combine(Directory.GetCurrentDirectory(), "bench", "results");
Directory.CreateDirectory(results);

var job = (smoke ? Job.Dry : Job.ShortRun.WithWarmupCount(3).WithIterationCount(8).WithIterationTime(TimeInterval.FromMilliseconds(120)))
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithId(smoke ? "smoke" : "short");
var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddJob(job)
    .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "approvalbot-bench", "BenchmarkDotNet.Artifacts"))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
// Zero allocations per decision is a target (BENCHMARKS.md); checked on every run, smoke included.
var allocations = AllocationCheck.Run([10, 1_000, 10_000]);
foreach (var row in allocations.Where(r => r.BytesPerThousandDecisions != 0))
{
    Console.WriteLine($"ALLOCATES: Policy.Evaluate '{row.Case}' at {row.Rules} rules allocated {row.BytesPerThousandDecisions} B in 1,000 decisions (target: 0)");
}

var summary = BenchmarkRunner.Run<PolicyBenchmarks>(config);

var rows = summary.Reports.Select(report => new
{
    Case = report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\''),
    Rules = (int)report.BenchmarkCase.Parameters["Rules"],
    AllowPath = report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Contains("allow:", StringComparison.Ordinal),
    MeanNs = report.ResultStatistics?.Mean ?? double.NaN,
    AllocatedBytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? -1,
}).OrderBy(r => r.Case).ThenBy(r => r.Rules).ToList();

var failed = summary.Reports.Length == 0 || summary.HasCriticalValidationErrors || rows.Any(r => double.IsNaN(r.MeanNs))
    || allocations.Any(r => r.BytesPerThousandDecisions != 0);
var json = JsonSerializer.Serialize(
    new
    {
        Description = "Policy.Evaluate per decision (request prepared), and Policy.Parse; BenchmarkDotNet " + (smoke ? "Dry job (one invocation: not a measurement)" : "3 warm-up and 8 measured iterations of ~120 ms, in-process"),
        Rows = rows,
        ZeroAllocationCheck = allocations,
    },
    new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
File.WriteAllText(Path.Combine(results, "policy.json"), json);
Console.WriteLine($"wrote {Path.Combine(results, "policy.json")}");
return failed ? 1 : 0;
