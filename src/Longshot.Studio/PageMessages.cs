using Longshot.Diffusion.Pipelines;
using Longshot.Tensors;

namespace Longshot.Studio;

/// <summary>
/// The library's typed errors worded for the page: a setting is named by its form field's label, a storyline problem
/// is given without its source (the page marks the line).
/// </summary>
public static class PageMessages
{
    /// <summary>Form labels of the library's settings (the options records' property names).</summary>
    private static readonly Dictionary<string, string> Labels = new()
    {
        ["Frames"] = "Frames", ["Length"] = "Frames per model call", ["Depth"] = "Levels", ["Seed"] = "Seed",
        ["Steps"] = "Steps", ["GlobalSteps"] = "Keyframe steps", ["GuidanceScale"] = "Guidance",
        ["Scheduler"] = "Sampler", ["FillStart"] = "Fill start", ["FillEase"] = "Fill ease", ["Scheme"] = "Scheme",
        ["Story"] = "Storyline", ["Range"] = "Redraw range", ["Parent"] = "Redraw",
        ["Global"] = "Global model", ["Local"] = "Local model", ["Model"] = "Model", ["Image"] = "First frame",
        ["Size"] = "Size", ["Fps"] = "Fps", ["MotionBucket"] = "Motion bucket", ["NoiseAug"] = "Noise augmentation",
        ["MinGuidance"] = "Guidance", ["DecodeChunkSize"] = "Decode chunk", ["Prompt"] = "Prompt",
        ["NegativePrompt"] = "Negative prompt",
    };

    /// <summary>The message of <paramref name="e"/> for a person using the page.</summary>
    public static string For(LongshotException e) => e switch
    {
        StorylineException s => s.Line is { } line ? $"Storyline, line {line}: {s.Problem}" : $"Storyline: {s.Problem}",
        SettingException s => $"{Labels.GetValueOrDefault(s.Setting, s.Setting)}: {s.Message}",
        _ => e.Message,
    };
}
