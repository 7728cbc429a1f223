using Longshot.Diffusion.Pipelines;
using Longshot.Tensors;

namespace Longshot.Diffusion.Schemes;

/// <summary>
/// The registry of ways of generating: every scheme, with its default settings, found by its short name. A new
/// scheme is a new <see cref="GenerationScheme"/> type added to <see cref="All"/>; nothing else lists them.
/// </summary>
public static class GenerationSchemes
{
    /// <summary>Every scheme with its default settings, in the order tables list them.</summary>
    public static IReadOnlyList<GenerationScheme> All { get; } = new GenerationScheme[]
    {
        new DiffusionOverDiffusion(), new Autoregressive(), new ClipParallel(), new Extended(),
    };

    /// <summary>The schemes that run on the global and local models alone: what the studio offers and the
    /// benchmarks compare.</summary>
    public static IReadOnlyList<GenerationScheme> OnStoryModels { get; } = All.Where(s => s.OnStoryModels).ToList();

    /// <summary>Every short name, in order.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(s => s.Name).ToList();

    /// <summary>The scheme of a short name with its default settings; a <see cref="SettingException"/> listing the
    /// names otherwise.</summary>
    public static GenerationScheme Parse(string name) =>
        TryParse(name) ?? throw new SettingException(nameof(GenerationRequest.Scheme),
            $"unknown scheme '{name}' ({string.Join(", ", Names)}).");

    /// <summary>The scheme of a short name with its default settings, or null.</summary>
    public static GenerationScheme? TryParse(string name) => All.FirstOrDefault(s => s.Name == name);

    /// <summary>The position of a scheme's name in <see cref="All"/> (tables sort by it), or -1.</summary>
    public static int Order(string name) => Names.ToList().IndexOf(name);
}
