using Longshot.Diffusion.Pipelines;
using Longshot.Tensors;
using Longshot.Video.Formats;
using Longshot.Video.Imaging;

namespace Longshot.Diffusion.Output;

/// <summary>
/// Writes a generated video with what shows how it was made: the video (any format <see cref="VideoWriters"/>
/// knows), one contact sheet per level of the plan (OUT.levelK.png, at most 48 frames each) and OUT.html with the
/// video above the hierarchy of keyframes. Every file appears only once complete.
/// </summary>
public static class GenerationOutput
{
    /// <summary>Frames per second of written videos.</summary>
    public const double Fps = 24;

    /// <summary>Frames shown at most on one level's contact sheet.</summary>
    public const int MaxSheetFrames = 48;

    /// <summary>Contact sheet path of level <paramref name="k"/> (0-based) for a video at <paramref
    /// name="outPath"/>.</summary>
    public static string SheetPath(string outPath, int k) => $"{SidecarBase(outPath)}.level{k + 1}.png";

    /// <summary>The HTML page's path for a video at <paramref name="outPath"/>.</summary>
    public static string PagePath(string outPath) => SidecarBase(outPath) + ".html";

    /// <summary>The video's path without its extension; a folder of frames ("out/x/") gives "out/x", so the sheets
    /// and the page go beside the folder, never into it among the frames.</summary>
    private static string SidecarBase(string outPath) =>
        Path.ChangeExtension(Path.TrimEndingDirectorySeparator(outPath), null);

    /// <summary>
    /// Consumes <paramref name="frames"/> ([3, H, W] in [-1, 1], in order) into the video and the contact sheets of
    /// <paramref name="plan"/>, then writes the page. <paramref name="onFrame"/> sees every frame as it is written.
    /// </summary>
    public static void Write(GenerationPlan plan, IEnumerable<Tensor> frames, string outPath, string caption,
        Action<int, Frame>? onFrame = null)
    {
        var sheets = plan.LevelFrames.Select((f, k) =>
            new ContactSheet(SheetPath(outPath, k), SheetFrames(f).ToHashSet(), 16))
            .ToList();
        try
        {
            using (var w = VideoWriters.Create(outPath, Fps))
            {
                foreach (var t in frames)
                {
                    var frame = Frame.FromTensor(t);
                    onFrame?.Invoke(w.FrameCount, frame);
                    w.Write(frame);
                    foreach (var sh in sheets) sh.Write(frame);
                }
                if (w.FrameCount != plan.Frames)
                    throw new InvalidOperationException($"{outPath}: {w.FrameCount} frames generated, {plan.Frames} " +
                        $"planned.");
                w.Complete();
            }
            foreach (var sh in sheets) sh.Complete();
        }
        finally
        {
            foreach (var sh in sheets) sh.Dispose();
        }
        var sheetLinks = plan.LevelFrames
            .Select((_, k) => (plan.LevelTitle(k), Path.GetFileName(SheetPath(outPath, k)))).ToList();
        HierarchyPage.Write(PagePath(outPath), $"{plan.Frames} frames, {plan.Scheme.Name}",
            Path.GetFileName(Path.TrimEndingDirectorySeparator(outPath)), sheetLinks, caption);
    }

    /// <summary>The frames of a level its contact sheet shows: evenly spaced, at most <see
    /// cref="MaxSheetFrames"/>.</summary>
    public static int[] SheetFrames(IReadOnlyList<int> levelFrames)
    {
        int every = Math.Max(1, (levelFrames.Count + MaxSheetFrames - 1) / MaxSheetFrames);
        return levelFrames.Where((_, i) => i % every == 0).ToArray();
    }

    /// <summary>The page's caption for a storyline: its prompt, or how many segments it has.</summary>
    public static string Caption(Storyline story) =>
        story.Segments.Count == 1 ? story.Segments[0].Prompt : $"{story.Segments.Count} story segments";
}
