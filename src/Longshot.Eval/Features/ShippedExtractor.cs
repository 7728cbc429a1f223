namespace Longshot.Eval.Features;

/// <summary>
/// The extractor shipped in models/toonworld-eval, pinned by the SHA-256 of its weights: `longshot eval` refuses
/// other weights under that name, so scores from different runs and machines stay comparable.
/// </summary>
public static class ShippedExtractor
{
    /// <summary>The folder models/toonworld-eval, found as the other shipped models are.</summary>
    public static string Folder() => Longshot.Diffusion.ShippedModels.Find("toonworld-eval");

    public const string Sha256 = "7b2527a5a3cd32c6eb9506174c713855efc634363b0c981c7b9427b31d3ac4ac";
}
