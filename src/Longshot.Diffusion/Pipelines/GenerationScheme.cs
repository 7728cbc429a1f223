using Longshot.Tensors;

namespace Longshot.Diffusion.Pipelines;

/// <summary>How a long video is made from the models.</summary>
public enum GenerationScheme
{
    /// <summary>NUWA-XL's diffusion over diffusion: global keyframes, then every gap filled level by level.</summary>
    DiffusionOverDiffusion,

    /// <summary>The autoregressive baseline: one clip after another, each continuing from the last frame.</summary>
    Autoregressive,

    /// <summary>Video-Infinity's clip parallelism: every clip denoised at once with the short-video (global) model,
    /// neighbours exchanging context at every temporal layer.</summary>
    ClipParallel,

    /// <summary>ExVideo: one pass of a long-context (extended) image-to-video model over every frame, the first frame
    /// given (drawn by the global model, or an image).</summary>
    Extended,
}

/// <summary>Names of <see cref="GenerationScheme"/> on the command line, in files and in reports.</summary>
public static class GenerationSchemes
{
    /// <summary>Every scheme, in the order tables list them.</summary>
    public static IReadOnlyList<GenerationScheme> All { get; } = Enum.GetValues<GenerationScheme>();

    /// <summary>The schemes that run on the global and local models alone (dod, ar, clips): what the studio offers and
    /// the benchmarks compare. The extended scheme needs a model of its own.</summary>
    public static IReadOnlyList<GenerationScheme> OnStoryModels { get; } = new[]
    {
        GenerationScheme.DiffusionOverDiffusion, GenerationScheme.Autoregressive, GenerationScheme.ClipParallel,
    };

    /// <summary>Short name: "dod", "ar", "clips" or "extended" (the command line's --scheme, result rows, run
    /// folders).</summary>
    public static string Name(this GenerationScheme s) => s switch
    {
        GenerationScheme.DiffusionOverDiffusion => "dod",
        GenerationScheme.Autoregressive => "ar",
        GenerationScheme.ClipParallel => "clips",
        GenerationScheme.Extended => "extended",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    /// <summary>Long name for titles and progress.</summary>
    public static string Title(this GenerationScheme s) => s switch
    {
        GenerationScheme.DiffusionOverDiffusion => "diffusion over diffusion",
        GenerationScheme.Autoregressive => "autoregressive",
        GenerationScheme.ClipParallel => "clip parallel",
        GenerationScheme.Extended => "extended model",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    /// <summary>The scheme of a short name; a <see cref="LongshotException"/> listing the names otherwise.</summary>
    public static GenerationScheme Parse(string name) =>
        TryParse(name) ?? throw new LongshotException(
            $"unknown scheme '{name}' ({string.Join(", ", All.Select(Name))}).");

    /// <summary>The scheme of a short name, or null.</summary>
    public static GenerationScheme? TryParse(string name) =>
        All.Cast<GenerationScheme?>().FirstOrDefault(s => s!.Value.Name() == name);
}
