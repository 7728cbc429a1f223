using System.CommandLine;
using Longshot.Cli.Commands;

namespace Longshot.Cli;

/// <summary>
/// The `longshot` command line: one System.CommandLine command per file under Commands/, each a thin parser over a
/// library call. Parse errors name the option (exit 2), failures go through <see cref="ErrorPolicy"/>, and SIGINT or
/// SIGTERM cancel the running command cleanly (<see cref="ShutdownSignals"/>).
/// </summary>
internal static class LongshotCli
{
    /// <summary>The command tree: every command with its options, help and completions.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "Longshot: long-video generation (NUWA-XL diffusion over diffusion) on its own .NET engine.\n" +
            "Environment: LONGSHOT_GEMM=builtin|openblas chooses the matrix-multiply backend (default: OpenBLAS when " +
            "installed); LONGSHOT_THREADS=N sets the kernel threads (default: all cores).");
        foreach (var c in new[]
                 {
                     DemoCommand.Create(), InfoCommand.Create(), DataCommands.Create(), TrainCommands.Create(),
                     GenerateCommand.Create(), EvalCommands.Create(), ServeCommand.Create(), ModelCommands.Create(),
                 })
            root.Subcommands.Add(c);
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var root = Build();
        var parse = root.Parse(args.Length == 0 ? new[] { "--help" } : args);
        var config = new InvocationConfiguration
        {
            Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
        };
        if (parse.Errors.Count > 0 && !JobRanks.IsLeader) return ErrorPolicy.BadInput;
        if (parse.Errors.Count > 0)
        {
            string command = CommandPath(parse.CommandResult.Command, root);
            foreach (var message in parse.Errors.Select(e => e.Message).Distinct())
                error.WriteLine($"{command}: {message}");
            error.WriteLine($"Run '{command} --help' for its options.");
            return ErrorPolicy.BadInput;
        }
        using var signals = new ShutdownSignals();
        int code;
        try
        {
            string command = CommandPath(parse.CommandResult.Command, root);
            if (!RunsOverRanks.Contains(command)) JobRanks.RequireSingle(command);
            code = await parse.InvokeAsync(config, signals.Token);
        }
        catch (OperationCanceledException) when (signals.Token.IsCancellationRequested)
        {
            if (JobRanks.IsLeader)
                error.WriteLine($"cancelled ({signals.Received}); rerun the same command to continue where it " +
                    $"stopped.");
            code = signals.ExitCode;
        }
        catch (Exception e)
        {
            // Bad input fails every rank alike: rank 0 says so. Anything else is said by the rank it happened on.
            bool says = JobRanks.IsLeader || e is not Tensors.LongshotException;
            code = ErrorPolicy.Report(e, says ? error : TextWriter.Null, JobRanks.RankLabel);
            // One rank failing alone would leave the others waiting for it: end the whole job.
            if (JobRanks.Distributed) JobRanks.Current.Abort(code);
        }
        JobRanks.Finish();
        return code;
    }

    /// <summary>The commands that run over MPI ranks; under mpirun with several, every other one is refused.</summary>
    private static readonly HashSet<string> RunsOverRanks = new()
    {
        "longshot", "longshot generate", "longshot demo", "longshot info", "longshot train vae",
            "longshot train global",
        "longshot train local", "longshot train base", "longshot train extend",
    };

    /// <summary>"longshot train vae": the names from the root down to <paramref name="command"/>.</summary>
    private static string CommandPath(Command command, RootCommand root)
    {
        var names = new List<string>();
        for (Command? c = command; c != null && c != root; c = c.Parents.OfType<Command>().FirstOrDefault())
            names.Insert(0, c.Name);
        return string.Join(" ", names.Prepend("longshot"));
    }

    /// <summary>Runs <paramref name="work"/> off the main thread when the command is invoked.</summary>
    public static Command Runs(this Command c, Func<ParseResult, CancellationToken, int> work)
    {
        c.SetAction((parse, ct) => Task.Run(() => work(parse, ct), CancellationToken.None));
        return c;
    }
}
