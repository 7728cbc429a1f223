using Longshot.Tensors;

namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// A storyline that cannot be read: <see cref="Line"/> (1-based, null for the whole text) and <see cref="Problem"/>
/// apart, so a page can mark the line and show the problem once. The message is "source:line: problem".
/// </summary>
public sealed class StorylineException(string source, int? line, string problem)
    : LongshotException(line is { } l ? $"{source}:{l}: {problem}" : $"{source}: {problem}")
{
    /// <summary>The file or name the storyline came from (its source).</summary>
    public string Origin { get; } = source;

    /// <summary>The line at fault (1-based), or null when the problem is the whole storyline.</summary>
    public int? Line { get; } = line;

    /// <summary>What is wrong, without the source and line.</summary>
    public string Problem { get; } = problem;
}
