using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Longshot.Cli.Tests;

/// <summary>Runs the command line in this process (fast) or as a child process (for signals and kills).</summary>
internal static class Cli
{
    /// <summary>Exit code, standard output and standard error of `longshot ARGS` run in this process.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = LongshotCli.RunAsync(args, output, error).GetAwaiter().GetResult();
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>The repository root (where models/ lives).</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Longshot.slnx"))) return d.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    public static string Models(string name) => Path.Combine(Root, "models", name);

    /// <summary>`dotnet longshot.dll ARGS` as a child process in <paramref name="dir"/>, output captured.</summary>
    public static Process Start(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true,
                UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "longshot.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LONGSHOT_GEMM"] = "builtin";
        return Process.Start(psi)!;
    }

    /// <summary>
    /// `mpirun -np N dotnet longshot.dll ARGS` as a child process, or null where mpirun is not installed; in CI
    /// (CI=true), where .ci/run installs openmpi-bin, its absence is a failure.
    /// </summary>
    public static Process? StartMpi(string dir, int ranks, params string[] args)
    {
        if (!MpirunAvailable)
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
                throw new InvalidOperationException("mpirun must be installed in CI (.ci/run installs openmpi-bin).");
            return null;
        }
        var psi = new ProcessStartInfo("mpirun")
        {
            WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true,
                UseShellExecute = false,
        };
        foreach (var a in new[] { "--oversubscribe", "--allow-run-as-root", "-np", ranks.ToString(), "dotnet",
                     Path.Combine(AppContext.BaseDirectory, "longshot.dll") }.Concat(args))
            psi.ArgumentList.Add(a);
        psi.Environment["LONGSHOT_GEMM"] = "builtin";
        return Process.Start(psi)!;
    }

    /// <summary>
    /// The bytes of the file <paramref name="outName"/> that the command <paramref name="args"/> gives for a fresh
    /// temporary folder writes there, run in one process (<paramref name="ranks"/> 0) or under mpirun on that many
    /// ranks; null where mpirun is not installed (outside CI). A failing command fails the test with its stderr.
    /// </summary>
    public static byte[]? OutputBytes(Func<string, string[]> args, string outName, int ranks = 0)
    {
        var dir = TempDir();
        try
        {
            var p = ranks == 0 ? Start(dir, args(dir)) : StartMpi(dir, ranks, args(dir));
            if (p == null) return null;
            var (code, err) = Finish(p, 300);
            Xunit.Assert.True(code == 0, err);
            return File.ReadAllBytes(Path.Combine(dir, outName));
        }
        finally { Directory.Delete(dir, true); }
    }

    public static bool MpirunAvailable { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(':').Any(d => File.Exists(Path.Combine(d, "mpirun")));

    /// <summary>PIDs of this machine's processes whose environment holds NAME=VALUE.</summary>
    public static List<int> ProcessesWithEnvironment(string name, string value)
    {
        var found = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                var env = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (env.Contains($"{name}={value}")) found.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>Sends a POSIX signal to a process id.</summary>
    public static void Signal(int pid, int signal)
    {
        if (kill(pid, signal) != 0) throw new InvalidOperationException($"kill({pid}, {signal}) failed");
    }

    /// <summary>Waits for a child, returning its exit code and its whole standard error.</summary>
    public static (int Code, string Err) Finish(Process p, int timeoutSeconds = 300)
    {
        var err = p.StandardError.ReadToEndAsync();
        var _ = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(true);
            throw new TimeoutException($"longshot did not finish in {timeoutSeconds} s");
        }
        return (p.ExitCode, err.Result);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>Sends a POSIX signal (15: SIGTERM, 2: SIGINT, 9: SIGKILL).</summary>
    public static void Signal(Process p, int signal)
    {
        if (kill(p.Id, signal) != 0) throw new InvalidOperationException($"kill({p.Id}, {signal}) failed");
    }

    /// <summary>
    /// True when this process ignores <paramref name="signal"/> (SigIgn in /proc/self/status), as a background job of a
    /// non-interactive shell ignores SIGINT; children inherit that, so the CLI started from here ignores it too.
    /// </summary>
    public static bool Ignores(int signal)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:"));
        return line != null && (Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << (signal - 1))) != 0;
    }

    /// <summary>Waits until <paramref name="condition"/> holds or the process ends; false if it ended first.</summary>
    public static bool WaitFor(Process p, Func<bool> condition, int timeoutSeconds = 120)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < timeoutSeconds)
        {
            if (condition()) return true;
            if (p.HasExited) return condition();
            Thread.Sleep(20);
        }
        throw new TimeoutException("condition not reached in time");
    }

    /// <summary>A fresh folder under the system's temp, removed by the caller.</summary>
    public static string TempDir() => Directory.CreateTempSubdirectory("longshot-cli-").FullName;
}
