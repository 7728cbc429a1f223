using System.Globalization;
using System.Text.RegularExpressions;
using Longshot.Tensors;

namespace Longshot.Diffusion.Pipelines;

/// <summary>A prompt that holds over a range of frames [Start, End).</summary>
public sealed record StorySegment(int Start, int End, string Prompt);

/// <summary>
/// A storyline: prompts with frame ranges. Text format, one segment per line:
/// <code>
/// # comments and blank lines are ignored
/// 0-240: Wide shot of the beach at noon. Ziggy, in an orange shirt, waves.
/// 240-480: Close-up of the town at night. Pax, in a blue shirt, jumps.
/// 20s-30s: ranges may be given in seconds (at the story's frame rate)
/// 480-: an open end runs to the end of the video
/// </code>
/// Ranges are half-open, must not overlap, and must leave no gap.
/// </summary>
public sealed partial class Storyline
{
    /// <summary>The frame rate storylines are read at (seconds in ranges) and videos are written at, unless a
    /// caller says otherwise.</summary>
    public const double DefaultFps = 24;

    /// <summary>The segments, in order, covering [0, <see cref="Frames"/>) without gaps.</summary>
    public IReadOnlyList<StorySegment> Segments { get; }

    /// <summary>Total frames (the end of the last segment).</summary>
    public int Frames => Segments[^1].End;

    private Storyline(List<StorySegment> s) => Segments = s;

    /// <summary>The range before the colon: START-END or START-, each a number of frames or of seconds
    /// ("12.5s").</summary>
    [GeneratedRegex(@"^\s*([0-9]{1,9}(?:\.[0-9]{1,6})?)(s?)\s*-\s*(?:([0-9]{1,9}(?:\.[0-9]{1,6})?)(s?))?\s*$")]
    private static partial Regex Range();

    /// <summary>
    /// The scene a prompt describes: its first sentence ("Wide shot of the beach at noon."), the whole prompt when it
    /// has one sentence. Prompts of one scene belong to one shot, whatever their actions; a new scene is a cut.
    /// </summary>
    public static string SceneOf(string prompt)
    {
        int end = prompt.IndexOf('.');
        return (end >= 0 ? prompt[..(end + 1)] : prompt).Trim();
    }

    /// <summary>Parses a storyline; <paramref name="frames"/> closes an open-ended last segment.</summary>
    public static Storyline Parse(string text, double fps = DefaultFps, int? frames = null, string source = "storyline")
    {
        if (!double.IsFinite(fps) || fps <= 0 || fps > 1000)
            throw new StorylineException(source, null, $"frame rate must be between 0 and 1000, got {fps}.");
        var segs = new List<StorySegment>();
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var raw = lines[i].TrimEnd('\r');
            if (raw.Trim().Length == 0 || raw.TrimStart().StartsWith('#')) continue;
            // The range is what comes before the first colon; everything after it, trimmed, is the prompt.
            int colon = raw.IndexOf(':');
            var m = colon > 0 && colon <= 64 ? Range().Match(raw[..colon]) : Match.Empty;
            string prompt = colon >= 0 ? raw[(colon + 1)..].Trim() : "";
            if (!m.Success || prompt.Length == 0)
                throw new StorylineException(source, i + 1, $"expected 'START-END: prompt' (frames, or seconds " +
                    $"with 's'), got '{Shorten(raw.Trim())}'.");
            int Frame(string num, string unit)
            {
                double f = Math.Round(double.Parse(num, CultureInfo.InvariantCulture) * (unit == "s" ? fps : 1));
                return f <= GenerationRequest.MaxFrames ? (int)f
                    : throw new StorylineException(source, i + 1, $"frame {num}{unit} is past the longest video " +
                                                  $"({GenerationRequest.MaxFrames} frames).");
            }
            int start = Frame(m.Groups[1].Value, m.Groups[2].Value);
            int end = m.Groups[3].Success ? Frame(m.Groups[3].Value, m.Groups[4].Value)
                : frames ?? throw new StorylineException(source, i + 1, "an open-ended range needs the video's " +
                    "length in frames.");
            if (end <= start) throw new StorylineException(source, i + 1, $"the range {start}-{end} is empty.");
            int expected = segs.Count == 0 ? 0 : segs[^1].End;
            if (start != expected)
                throw new StorylineException(source, i + 1, $"segment starts at frame {start} but the previous one " +
                    $"ends at {expected} (ranges must be contiguous, starting at 0).");
            segs.Add(new StorySegment(start, end, prompt));
        }
        if (segs.Count == 0) throw new StorylineException(source, null, "no segments.");
        if (frames is { } f && segs[^1].End < f)
            throw new StorylineException(source, null, $"the story ends at frame {segs[^1].End}, before the " +
                $"requested {f} frames.");
        return new Storyline(segs);
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..77] + "...";

    /// <summary>A storyline from one prompt per frame, consecutive equal prompts merged into one segment.</summary>
    public static Storyline FromFramePrompts(IReadOnlyList<string> prompts)
    {
        if (prompts.Count == 0) throw new StorylineException("storyline", null, "no frames.");
        var segs = new List<StorySegment>();
        int start = 0;
        for (int i = 1; i <= prompts.Count; i++)
            if (i == prompts.Count
                || prompts[i] != prompts[start]) { segs.Add(new StorySegment(start, i, prompts[start])); start = i; }
        return new Storyline(segs);
    }

    /// <summary>The text form that <see cref="Parse"/> reads back.</summary>
    public string ToText() => string.Join("\n", Segments.Select(x => $"{x.Start}-{x.End}: {x.Prompt}")) + "\n";

    public static Storyline Load(string path, double fps = DefaultFps, int? frames = null)
    {
        if (!File.Exists(path)) throw new InputFileException(path, $"storyline not found: {path}");
        return Parse(File.ReadAllText(path), fps, frames, path);
    }

    /// <summary>The prompt of a frame (dense prompts for every level come from this mapping).</summary>
    public string PromptAt(int frame)
    {
        int lo = 0, hi = Segments.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (Segments[mid].Start <= frame) lo = mid; else hi = mid - 1;
        }
        return Segments[Math.Clamp(lo, 0, Segments.Count - 1)].Prompt;
    }
}
