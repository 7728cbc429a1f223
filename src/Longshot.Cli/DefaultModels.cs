namespace Longshot.Cli;

/// <summary>The checkpoints shipped in the repository's models/ folder, found from the working directory or the program's folder.</summary>
internal static class DefaultModels
{
    /// <summary>The Toonworld T-KLVAE (models/toonworld-vae), used when --vae is not given.</summary>
    public static string Vae() => Find(Path.Combine("models", "toonworld-vae"));

    /// <summary>The shipped global MTD (models/toonworld-global).</summary>
    public static string Global() => Find(Path.Combine("models", "toonworld-global"), "model_index.json");

    /// <summary>The shipped local MTD (models/toonworld-local).</summary>
    public static string Local() => Find(Path.Combine("models", "toonworld-local"), "model_index.json");

    /// <summary>The shipped evaluation feature extractor (models/toonworld-eval).</summary>
    public static string Extractor() => Find(Path.Combine("models", "toonworld-eval"));

    private static string Find(string relative, string marker = "config.json")
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var p = Path.Combine(dir.FullName, relative);
                if (File.Exists(Path.Combine(p, marker))) return p;
            }
        throw new FileNotFoundException($"the shipped model {relative} was not found above {Directory.GetCurrentDirectory()}; pass its folder explicitly.");
    }
}
