namespace Longshot.Cli;

/// <summary>The checkpoints shipped in the repository's models/ folder, found from the working directory or the program's folder.</summary>
internal static class DefaultModels
{
    /// <summary>The Toonworld T-KLVAE (models/toonworld-vae), used when --vae is not given.</summary>
    public static string Vae() => Find(Path.Combine("models", "toonworld-vae"));

    private static string Find(string relative)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var p = Path.Combine(dir.FullName, relative);
                if (File.Exists(Path.Combine(p, "config.json"))) return p;
            }
        throw new FileNotFoundException($"the shipped model {relative} was not found above {Directory.GetCurrentDirectory()}; pass its folder explicitly.");
    }
}
