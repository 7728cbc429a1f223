using System.Collections.Concurrent;
using Longshot.Video.Imaging;

namespace Longshot.Video.Toonworld;

/// <summary>
/// Any frame of any Toonworld story, rendered and captioned on demand: story i is episode i of the settings'
/// generator, so a store of thousands of stories can keep just the frames a model learns from and render them again
/// (for their ground truth) whenever asked. Thread-safe.
/// </summary>
public sealed class ToonworldStories(ToonworldSettings settings)
{
    private readonly ConcurrentDictionary<int, EpisodeScript> _scripts = new();

    /// <summary>The generator's settings.</summary>
    public ToonworldSettings Settings { get; } = settings;

    /// <summary>Frame <paramref name="frame"/> of story <paramref name="story"/>: its picture, its caption and its
    /// ground truth.</summary>
    public (Frame Picture, string Caption, FrameAnnotation Annotation) Frame(int story, int frame)
    {
        var script = Script(story);
        var (picture, annotation) = Renderer.Render(script, frame);
        return (picture, Captioner.Caption(script, annotation), annotation);
    }

    /// <summary>Only the ground truth of a frame (where its characters stand, what the shot shows).</summary>
    public FrameAnnotation Annotation(int story, int frame) => Renderer.Render(Script(story), frame).Annotation;

    private EpisodeScript Script(int story) => _scripts.GetOrAdd(story, i => EpisodeScript.Create(Settings, i));
}
