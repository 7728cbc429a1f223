using System.CommandLine;
using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Tensors;

namespace Longshot.Cli;

/// <summary>The clip-parallel scheme's options (--scheme clips): clip length or worker count, attention
/// scope.</summary>
internal sealed class ClipOptions
{
    private static readonly ClipSettings Defaults = new();

    public Option<int?> ClipFrames { get; } = CliOptions.OptionalInt("--clip-frames",
        $"clips: frames per clip (default {Defaults.ClipFrames})", 2, 4096);
    public Option<int?> Workers { get; } = CliOptions.OptionalInt("--workers",
        "clips: cut the video into this many clips (instead of --clip-frames)", 1, 65536);
    public Option<string> Attention { get; } = CliOptions.Choice("--clip-attention",
        "clips: what each clip's temporal attention sees: dual (Video-Infinity), local, global, independent",
        Enum.GetValues<ClipAttention>().Reverse().Select(ClipSettings.Name).ToArray());
    public Option<int> Window { get; } = CliOptions.Int("--window",
        "clips: local attention window, frames each side", Defaults.Window, 1, 256);
    public Option<int> GlobalFrames { get; } = CliOptions.Int("--global-frames",
        "clips: frames of the whole video every clip attends to", Defaults.GlobalFrames, 1, 256);
    public Option<int> Switch { get; } = CliOptions.Int("--switch-step",
        "clips: dual scope favours the global frames at timesteps >= this, the local window below",
        Defaults.SwitchTimestep, 0, 1000);

    public Option<string> Selection { get; } = CliOptions.Choice("--global-selection",
        "clips: which frames are global: even (spaced over the whole video) or strided (the reference code's: " +
        "every clip offers its share, strided from its first frame)",
        Enum.GetValues<GlobalSelection>().Select(g => g.ToString().ToLowerInvariant()).ToArray());

    public Option[] All => new Option[] { ClipFrames, Workers, Attention, Window, GlobalFrames, Switch, Selection };

    /// <summary>Whether any of these options was given on the command line.</summary>
    public Option? FirstGiven(ParseResult p) => All.FirstOrDefault(o => p.GetResult(o) is { Implicit: false });

    /// <summary>The clip settings the options give for a video of <paramref name="videoFrames"/> frames.</summary>
    public ClipSettings Settings(ParseResult p, int videoFrames)
    {
        int? frames = p.GetValue(ClipFrames), workers = p.GetValue(Workers);
        if (frames != null && workers != null)
            throw new LongshotException("--clip-frames and --workers both set the clip length; give one of them.");
        if (workers > videoFrames)
            throw new LongshotException($"--workers {workers} is more than the {videoFrames} frames to generate.");
        int clip = frames ?? (workers is { } w ? (videoFrames + w - 1) / w : Defaults.ClipFrames);
        return new ClipSettings(clip, ClipSettings.Parse(p.GetValue(Attention)!), p.GetValue(Window),
            p.GetValue(GlobalFrames), p.GetValue(Switch),
            Selection: Enum.Parse<GlobalSelection>(p.GetValue(Selection)!, ignoreCase: true));
    }

    /// <summary>The request with these settings; options of this set given with another scheme are refused.</summary>
    public GenerationRequest Apply(ParseResult p, GenerationRequest r)
    {
        if (r.Scheme is not ClipParallel)
        {
            if (FirstGiven(p) is { } given)
                throw new LongshotException($"{given.Name} applies to --scheme clips only.");
            return r;
        }
        return r with { Scheme = new ClipParallel(Settings(p, r.Frames)) };
    }
}
