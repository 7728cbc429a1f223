using Longshot.Tensors.Kernels;
using Longshot.Video.Imaging;

namespace Longshot.Video.Toonworld;

/// <summary>One rendered frame with its caption and ground truth.</summary>
public sealed record ToonFrame(Frame Frame, string Caption, FrameAnnotation Annotation);

/// <summary>A generated Toonworld episode: frames rendered on demand from its script, in parallel batches.</summary>
public sealed class ToonworldEpisode
{
    public EpisodeScript Script { get; }
    public int Index { get; }
    public int FrameCount => Script.Settings.Frames;

    public ToonworldEpisode(ToonworldSettings settings, int index)
    {
        Script = EpisodeScript.Create(settings, index);
        Index = index;
    }

    /// <summary>Renders one frame.</summary>
    public ToonFrame Render(int frame)
    {
        var (f, a) = Renderer.Render(Script, frame);
        return new ToonFrame(f, Captioner.Caption(Script, a), a);
    }

    /// <summary>Renders frames [start, start + count) across all cores.</summary>
    public ToonFrame[] RenderRange(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > FrameCount)
            throw new ArgumentOutOfRangeException(nameof(count),
            $"frames [{start}, {start + count}) are outside the episode's {FrameCount} frames.");
        var result = new ToonFrame[count];
        Threads.For(count, 8, (a, b) => { for (int i = a; i < b; i++) result[i] = Render(start + i); });
        return result;
    }

    /// <summary>All frames in order, rendered in batches so memory stays bounded.</summary>
    public IEnumerable<ToonFrame> Frames(int batch = 256, CancellationToken ct = default)
    {
        for (int s = 0; s < FrameCount; s += batch)
        {
            ct.ThrowIfCancellationRequested();
            foreach (var f in RenderRange(s, Math.Min(batch, FrameCount - s))) yield return f;
        }
    }
}
