using Longshot.Diffusion;

namespace Longshot.Studio;

/// <summary>A named set of sampler settings the page offers in one click.</summary>
public sealed record StudioPreset(string Name, string Title, int Steps, int GlobalSteps, double Guidance,
    string Sampler, double FillStart, int FillEase);

/// <summary>
/// The page's presets. Quality is the shipped models' tuned settings (docs/results.md); draft keeps them but takes a
/// quarter of the steps, for a first look at a storyline.
/// </summary>
public static class StudioPresets
{
    public static IReadOnlyList<StudioPreset> All { get; } = Make();

    private static StudioPreset[] Make()
    {
        var s = ShippedModels.Sampler;
        var quality = new StudioPreset("quality", "quality (the shipped settings)", s.Steps, s.GlobalSteps,
            Math.Round(s.GuidanceScale, 4), s.Scheduler, Math.Round(s.FillStart, 4), s.FillEase);
        var draft = quality with
        {
            Name = "draft", Title = "draft (a quarter of the steps)", Steps = Math.Max(1, s.Steps / 4),
            GlobalSteps = Math.Max(1, s.GlobalSteps / 4),
        };
        return new[] { draft, quality };
    }
}
