using Longshot.Diffusion.Pipelines;
using Longshot.Tensors;

namespace Longshot.Diffusion;

/// <summary>
/// The checkpoints shipped in the repository's models/ folder (trained by `longshot train` on Toonworld, recipe in
/// docs/models.md), found from the working directory or the program's folder, and the sampler settings the demo and
/// the benchmarks use with them.
/// </summary>
public static class ShippedModels
{
    /// <summary>The Toonworld T-KLVAE (models/toonworld-vae).</summary>
    public static string Vae() => Find("toonworld-vae");

    /// <summary>The global MTD (models/toonworld-global).</summary>
    public static string Global() => Find("toonworld-global", "model_index.json");

    /// <summary>The local MTD (models/toonworld-local).</summary>
    public static string Local() => Find("toonworld-local", "model_index.json");

    /// <summary>The image-to-video base model with a frame embedding (models/toonworld-base), ExVideo's
    /// starting point.</summary>
    public static string Base() => Find("toonworld-base", "model_index.json");

    /// <summary>The ExVideo-extended image-to-video model (models/toonworld-extended).</summary>
    public static string Extended() => Find("toonworld-extended", "model_index.json");

    /// <summary>The bundled storyline of the demo (models/demo-story.txt).</summary>
    public static string DemoStory() => FindFile("demo-story.txt");

    /// <summary>Sampler settings of the demo and of the benchmarks (<see cref="SamplerOptions.Shipped"/>).</summary>
    public static SamplerOptions Sampler => SamplerOptions.Shipped;

    /// <summary>A pipeline over the shipped global, local and VAE checkpoints.</summary>
    public static LongVideoPipeline Pipeline() => LongVideoPipeline.Load(Global(), Local(), Vae());

    /// <summary>The folder models/NAME holding MARKER, searched upward from the working directory and the program's
    /// folder.</summary>
    public static string Find(string name, string marker = "config.json") =>
        Path.GetDirectoryName(FindFile(Path.Combine(name, marker)))!;

    private static string FindFile(string relative)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var p = Path.Combine(dir.FullName, "models", relative);
                if (File.Exists(p)) return p;
            }
        throw new LongshotException($"the shipped file models/{relative} was not found above " +
            $"{Directory.GetCurrentDirectory()}; pass the model folder explicitly.");
    }
}
