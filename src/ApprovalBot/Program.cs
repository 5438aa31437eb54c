using ApprovalBot.Cli;

// The only place that touches the process's console: everything below gets writers.
return await CommandLine.RunAsync(args, Console.Out, Console.Error);
