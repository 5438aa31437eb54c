using System.Runtime.CompilerServices;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>Finds the repository from the tests (the build output may live outside it, e.g. with --artifacts-path).</summary>
public static class TeamsPaths
{
    /// <summary>The folder holding ApprovalBot.sln.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    public static string TestProject => Path.Combine(RepositoryRoot, "tests", "ApprovalBot.Bot.Tests");

    /// <summary>The published manifest schemas, vendored in the repository so a clean clone can test.</summary>
    public static string Schemas => Path.Combine(RepositoryRoot, "manifests", "schemas");

    private static string FindRoot([CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { Path.GetDirectoryName(sourceFile), Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "ApprovalBot.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException("ApprovalBot.sln was not found above the test sources or the working directory.");
    }
}
