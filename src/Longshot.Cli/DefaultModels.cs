using Longshot.Diffusion;

namespace Longshot.Cli;

/// <summary>The shipped checkpoints used when a command is not given model folders.</summary>
internal static class DefaultModels
{
    public static string Vae() => ShippedModels.Vae();
    public static string Global() => ShippedModels.Global();
    public static string Local() => ShippedModels.Local();
    public static string Extractor() => ShippedModels.Find("toonworld-eval");
}
