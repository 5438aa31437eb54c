namespace ApprovalBot.Bench.Policy;

/// <summary>
/// The allocation target as a pass/fail check (it was a unit test; a benchmark's job): after warm-up,
/// <c>Policy.Evaluate</c> allocates nothing on any path, at every size. Counted with the thread's
/// allocated-bytes counter over many decisions, so it needs no measurement run and holds in smoke mode too.
/// </summary>
public static class AllocationCheck
{
    public sealed record Row(string Case, int Rules, long BytesPerThousandDecisions);

    public static IReadOnlyList<Row> Run(IEnumerable<int> sizes)
    {
        var rows = new List<Row>();
        foreach (var size in sizes)
        {
            var bench = new PolicyBenchmarks { Rules = size };
            bench.Setup();
            foreach (var (name, request) in bench.Requests())
            {
                for (var i = 0; i < 100; i++)
                {
                    bench.Policy.Evaluate(request); // warm up (tiered JIT, lazy tables)
                }

                var before = GC.GetAllocatedBytesForCurrentThread();
                for (var i = 0; i < 1000; i++)
                {
                    bench.Policy.Evaluate(request);
                }

                rows.Add(new Row(name, size, GC.GetAllocatedBytesForCurrentThread() - before));
            }
        }

        return rows;
    }
}
