using Longshot.Tensors;

namespace Longshot.Cli;

/// <summary>
/// How the command line reports a failure, in one place. A <see cref="LongshotException"/> is the user's to fix: its
/// message, exit code 2. An I/O failure (disk full, permissions) is the environment's: its message, exit code 1.
/// Anything else is a bug in Longshot: one line, exit code 70, and the stack trace in a crash log for the report.
/// No stack trace reaches the terminal.
/// </summary>
internal static class ErrorPolicy
{
    public const int BadInput = 2, EnvironmentFailed = 1, InternalError = 70;

    public static int Report(Exception e, TextWriter error, string? rank = null)
    {
        string who = rank == null ? "longshot" : $"longshot ({rank})";
        while (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
        switch (e)
        {
            case SettingException s:
                var flags = s.Alternatives.Prepend(s.Setting).Select(SettingFlags.Of);
                error.WriteLine($"{who}: {string.Join(" or ", flags)}: {OneLine(e.Message)}");
                return BadInput;
            case LongshotException:
                error.WriteLine($"{who}: {OneLine(e.Message)}");
                return BadInput;
            case IOException or UnauthorizedAccessException:
                error.WriteLine($"{who}: {OneLine(e.Message)}");
                return EnvironmentFailed;
            default:
                var log = Path.Combine(Path.GetTempPath(), $"longshot-crash-{Environment.ProcessId}.log");
                try { File.WriteAllText(log, e.ToString()); } catch (IOException) { log = "(could not be written)"; }
                error.WriteLine($"{who}: internal error ({e.GetType().Name}: {OneLine(e.Message)}); details in " +
                    $"{log}");
                return InternalError;
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
