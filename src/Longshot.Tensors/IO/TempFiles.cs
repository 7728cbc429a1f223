using System.Collections.Concurrent;
using System.Diagnostics;

namespace Longshot.Tensors.IO;

/// <summary>
/// Temporary siblings of outputs: named ".NAME.PID.RANDOM.tmp" next to their target, so that a later process can
/// tell the leftovers of a killed one (its PID is gone) from files another live process is still writing, and
/// remove them. Each folder is swept once per process, the first time something is written into it.
/// </summary>
public static class TempFiles
{
    private static readonly ConcurrentDictionary<string, bool> Swept = new();

    /// <summary>A fresh temporary path next to <paramref name="target"/>, after sweeping that folder of stale
    /// ones.</summary>
    public static string For(string target)
    {
        // "out/" names the folder out, whose temporary sibling must not land inside it.
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        var dir = Path.GetDirectoryName(full)!;
        SweepOnce(dir);
        return Path.Combine(dir,
            $".{Path.GetFileName(full)}.{Environment.ProcessId}." +
            $"{Guid.NewGuid():N}.tmp");
    }

    /// <summary>Removes temporary files and folders in <paramref name="dir"/> left by processes that no longer
    /// run.</summary>
    public static int Sweep(string dir)
    {
        if (!Directory.Exists(dir)) return 0;
        int removed = 0;
        foreach (var path in Directory.EnumerateFileSystemEntries(dir, ".*.tmp"))
        {
            if (!TryOwner(Path.GetFileName(path), out int pid) || IsAlive(pid)) continue;
            try
            {
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
                else File.Delete(path);
                removed++;
            }
            catch (IOException) { } // another sweeper got there first, or it is in use after all
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    private static void SweepOnce(string dir)
    {
        if (Swept.TryAdd(dir, true)) Sweep(dir);
    }

    /// <summary>The PID in ".NAME.PID.RANDOM.tmp" (NAME may hold dots).</summary>
    internal static bool TryOwner(string name, out int pid)
    {
        pid = 0;
        var parts = name.Split('.');
        return parts.Length >= 5 && parts[0] == "" && parts[^1] == "tmp" && parts[^2].Length == 32
               && int.TryParse(parts[^3], out pid) && pid > 0;
    }

    private static bool IsAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
