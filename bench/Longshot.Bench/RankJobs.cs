using System.Diagnostics;
using System.Text.Json;

namespace Longshot.Bench;

/// <summary>A bench case's rank part as an Open MPI job on this machine: every rank prints one JSON line starting
/// with "rank", and the job's lines come back parsed.</summary>
internal static class RankJobs
{
    /// <summary>Runs this bench with <paramref name="args"/> (a rank case and its arguments) on
    /// <paramref name="ranks"/> ranks, unbound (`--bind-to none`, so each rank sees every core), and returns each
    /// rank's report.</summary>
    public static List<JsonElement> Run(int ranks, params string[] args)
    {
        var psi = new ProcessStartInfo("mpirun") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "--oversubscribe", "--bind-to", "none", "--allow-run-as-root", "-np",
                     ranks.ToString(), "dotnet", typeof(RankJobs).Assembly.Location }.Concat(args))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)
            ?? throw new InvalidOperationException("mpirun could not be started (apt-get install openmpi-bin).");
        var lines = p.StandardOutput.ReadToEnd().Split('\n').Select(l => l.Trim().TrimStart('\u001b', '[', '?', '1',
            'h', '=')).Where(l => l.StartsWith("{\"rank\"", StringComparison.Ordinal)).ToList();
        p.WaitForExit();
        if (p.ExitCode != 0 || lines.Count != ranks)
            throw new InvalidOperationException($"mpirun -np {ranks} {string.Join(" ", args)} exited with " +
                $"{p.ExitCode} and {lines.Count} reports.");
        return lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }
}
