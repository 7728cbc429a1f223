using Longshot.Tensors;

namespace Longshot.Studio;

/// <summary>
/// Every path a client names is a relative path inside the workspace: absolute paths, "..", drive or device names and
/// anything that resolves outside the workspace are refused with a <see cref="LongshotException"/> (a 400) that does
/// not echo the path back.
/// </summary>
public sealed class WorkspacePaths(string root)
{
    /// <summary>The workspace folder, absolute, with a trailing separator.</summary>
    public string Root { get; } = Path.GetFullPath(root)
        .TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;

    /// <summary>The absolute path of <paramref name="relative"/> inside the workspace.</summary>
    public string Resolve(string relative)
    {
        if (string.IsNullOrWhiteSpace(relative)) throw new LongshotException("path: empty.");
        if (relative.Length > 512) throw new LongshotException("path: longer than 512 characters.");
        if (Path.IsPathRooted(relative) || relative.Contains('\\') || relative.Contains(':')
            || relative.Any(char.IsControl))
            throw new LongshotException("path: must be relative to the workspace, with '/' only.");
        if (relative.Split('/').Any(part => part is ".." or "."))
            throw new LongshotException("path: '.' and '..' are not allowed.");
        var full = Path.GetFullPath(Path.Combine(Root, relative));
        if (!full.StartsWith(Root, StringComparison.Ordinal))
            throw new LongshotException("path: outside the workspace.");
        return full;
    }

    /// <summary>The folder of job <paramref name="id"/> (ids are made here: 12 hex digits).</summary>
    public string Job(string id) => Path.Combine(Root, "jobs", CheckId(id));

    /// <summary>The run folder (saved units) of job <paramref name="id"/>.</summary>
    public string Run(string id) => Path.Combine(Root, "runs", CheckId(id));

    /// <summary>Refuses anything that is not a job id, so that ids can go into paths.</summary>
    public static string CheckId(string id) =>
        id.Length == 12
            && id.All(Uri.IsHexDigit) ? id : throw new LongshotException("not a job id.");
}
