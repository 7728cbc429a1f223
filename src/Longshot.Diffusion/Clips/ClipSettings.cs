using Longshot.Tensors;

namespace Longshot.Diffusion.Clips;

/// <summary>What the temporal attention of each clip sees of the rest of the video (Video-Infinity and its
/// ablations).</summary>
public enum ClipAttention
{
    /// <summary>No exchange: every clip is sampled as a video of its own (the ablation's baseline).</summary>
    Independent,

    /// <summary>Neighbouring frames only: convolution halos and a local attention window across clip
    /// boundaries.</summary>
    Local,

    /// <summary>Local exchange plus the global frames, with the logit bias on the global keys at every step.</summary>
    Global,

    /// <summary>Video-Infinity's dual scope: the bias on the global keys in early (noisy) steps, on the local keys
    /// from the switch timestep down.</summary>
    Dual,
}

/// <summary>Which frames of the video are its global frames.</summary>
public enum GlobalSelection
{
    /// <summary>G frames evenly spaced over the whole video (Longshot's).</summary>
    Even,

    /// <summary>The reference code's: each clip offers top_k / clips of its frames, strided from its first (at least
    /// its first frame), concatenated in clip order and cut to the first top_k.</summary>
    Strided,
}

/// <summary>
/// Clip parallelism settings (Video-Infinity): the clip length, the attention scope, the local window (frames each
/// side), the number of global frames, the timestep at which the dual scope switches from global to local, and the
/// logit bias on the favoured keys. The reference code's values are the defaults: 8 frames each side, 16 global
/// frames, switch at t = 800 of 1,000, bias +10.
/// </summary>
public sealed record ClipSettings(int ClipFrames = 16, ClipAttention Attention = ClipAttention.Dual, int Window = 8,
    int GlobalFrames = 16, int SwitchTimestep = 800, float Bias = 10f,
    GlobalSelection Selection = GlobalSelection.Even)
{
    /// <summary>The layout of a video of <paramref name="frames"/> frames under these settings.</summary>
    public ClipLayout Layout(int frames) => new(frames, ClipFrames, GlobalFrames, Selection);

    /// <summary>Throws <see cref="LongshotException"/> naming the first setting that cannot work.</summary>
    public ClipSettings Validate(int frames)
    {
        if (ClipFrames < 2 || ClipFrames > 4096)
            throw new LongshotException($"clip frames must be between 2 and 4096, got {ClipFrames}.");
        if (Window < 1 || Window > 256) throw new LongshotException($"window must be between 1 and 256, got {Window}.");
        if (GlobalFrames < 1 || GlobalFrames > 256)
            throw new LongshotException($"global frames must be between 1 and 256, got {GlobalFrames}.");
        if (SwitchTimestep < 0 || SwitchTimestep > 1000)
            throw new LongshotException($"switch timestep must be between 0 and 1000, got {SwitchTimestep}.");
        if (!float.IsFinite(Bias) || Bias < 0 || Bias > 100)
            throw new LongshotException($"bias must be between 0 and 100, got {Bias}.");
        var layout = Layout(frames);
        if (Attention != ClipAttention.Independent && layout.Clips > 1 && layout.ShortestClip < Window)
            throw new LongshotException($"clips of {layout.ShortestClip} frames are shorter than the attention " +
                $"window ({Window} frames each side); use longer clips or a smaller window.");
        return this;
    }

    /// <summary>Short name of an attention scope (command line, result rows).</summary>
    public static string Name(ClipAttention a) => a.ToString().ToLowerInvariant();

    /// <summary>The scope of a short name; a <see cref="LongshotException"/> listing the names otherwise.</summary>
    public static ClipAttention Parse(string name) =>
        Enum.GetValues<ClipAttention>().Cast<ClipAttention?>().FirstOrDefault(a => Name(a!.Value) == name)
        ?? throw new LongshotException($"unknown clip attention '{name}' (" +
            string.Join(", ", Enum.GetValues<ClipAttention>().Select(Name)) + ").");

    /// <summary>The settings that decide the video, as a stable text (run folders are keyed by it).</summary>
    public string Identity => $"clips {ClipFrames} {Name(Attention)} w{Window} g{GlobalFrames} s{SwitchTimestep} " +
        $"b{Bias}" + (Selection == GlobalSelection.Even ? "" : " strided");
}
