using Longshot.Tensors;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;

namespace Longshot.Diffusion.Training;

/// <summary>One training unit: its frames (positions, given slots, level), each frame's caption and, on demand, its
/// latents and ground truth.</summary>
internal sealed record TrainingUnit(TrainingClip Clip, Func<int, string> Caption, Func<Tensor> Latents,
    Func<IReadOnlyList<FrameAnnotation>> Annotations);

/// <summary>
/// What diffusion training learns from: a source of units. Two kinds: a dataset's episodes (<see
/// cref="EpisodeUnits"/>: clips of any level cut from long videos through the latent cache) and a keyframe store
/// (<see cref="KeyframeUnits"/>: units of thousands of stories, only the frames a level uses).
/// </summary>
internal interface ITrainingUnits
{
    /// <summary>Every caption (to build a tokenizer).</summary>
    IEnumerable<string> Captions { get; }

    /// <summary>The frames' size in pixels (figure boxes are in pixels).</summary>
    (int Width, int Height) FrameSize { get; }

    /// <summary>How a checkpoint records the source ("none" for a dataset's episodes).</summary>
    string Description { get; }

    /// <summary>A batch of <paramref name="total"/> units of <paramref name="level"/> for the run's role, sharing one
    /// unit shape.</summary>
    List<TrainingUnit> Draw(MtdTrainOptions o, int level, int total, Rng rng);
}

/// <summary>Units cut from a dataset's episodes, their latents from the latent cache.</summary>
internal sealed class EpisodeUnits(DatasetStore store, ClipSampler sampler, LatentCache latents) : ITrainingUnits
{
    private readonly LatentCache _latents = latents;

    /// <summary>The episodes units are drawn from.</summary>
    public ClipSampler Sampler { get; } = sampler;

    public IEnumerable<string> Captions =>
        Sampler.Episodes.SelectMany(e => Enumerable.Range(0, e.FrameCount).Select(e.Caption));

    public (int Width, int Height) FrameSize => (store.Manifest.Width, store.Manifest.Height);

    public string Description => "none";

    /// <summary>Clips of the dataset's episodes at <paramref name="level"/>.</summary>
    public List<TrainingUnit> Draw(MtdTrainOptions o, int level, int total, Rng rng)
    {
        var clips = new List<TrainingUnit>();
        bool local = o.Role == TrainingRole.Local, video = o.IsVideoModel;
        // Request spacing applies to DoD's units: the global and local roles, and a video model given nothing (an
        // extended global model); the other video models take consecutive frames.
        bool requests = o.Spacing == FrameSpacing.Requests && (!video || o.Given == GivenFrames.None);
        // In request spacing the batch shares one unit shape (its first clip's); the autoregressive masks take L
        // consecutive frames.
        bool autoregressive = requests && local && level == o.Depth && rng.NextFloat() < o.AutoregressiveFraction;
        for (int b = 0; b < total; b++)
        {
            var ep = Sampler.Episodes[rng.NextInt(Sampler.Episodes.Count)];
            var clip = requests && b > 0 ? LongVideoSampling.Like(clips[0].Clip, ep.FrameCount, rng)
                : DrawClip(o, level, ep.FrameCount, rng, requests, autoregressive);
            clips.Add(new TrainingUnit(clip, i => ep.Caption(clip.Frames[i]), () => _latents.Frames(ep, clip.Frames),
                () => clip.Frames.Select(f => ep.Annotation(f)!).ToArray()));
        }
        return clips;
    }

    /// <summary>
    /// One training clip of <paramref name="level"/>: a unit of a request's schedule (request spacing), or L frames at
    /// the level's fixed stride with the frames the role is given (the first only for image to video and the
    /// autoregressive masks; in hierarchy spacing those masks are drawn per clip).
    /// </summary>
    private static TrainingClip DrawClip(MtdTrainOptions o, int level, int episodeFrames, Rng rng, bool requests,
        bool autoregressive)
    {
        if (requests && !autoregressive) return LongVideoSampling.SampleRequest(level, o.Length, episodeFrames, rng);
        bool local = o.Role == TrainingRole.Local, video = o.IsVideoModel;
        var clip = LongVideoSampling.Sample(autoregressive ? o.Depth : level, o.Depth, o.Length, episodeFrames, rng,
            conditioned: local || (video && o.Given == GivenFrames.Ends));
        bool firstOnly = (video && o.Given == GivenFrames.First) || autoregressive
            || (!requests && local && level == o.Depth && rng.NextFloat() < o.AutoregressiveFraction);
        return firstOnly ? clip with { Given = clip.Given.Select((_, i) => i == 0).ToArray() } : clip;
    }
}

/// <summary>
/// Units of a keyframe store: one slot's shape, several stories. A local model's finest units of L consecutive frames
/// give only the first frame in <see cref="MtdTrainOptions.AutoregressiveFraction"/> of the steps, as with a
/// dataset's episodes (the autoregressive baseline's masks).
/// </summary>
internal sealed class KeyframeUnits(KeyframeStore store) : ITrainingUnits
{
    /// <summary>The store.</summary>
    public KeyframeStore Store { get; } = store;

    public IEnumerable<string> Captions => Store.Captions;

    public (int Width, int Height) FrameSize => (Store.Settings.Width, Store.Settings.Height);

    /// <summary>The stories, not the folder's path. Global stores (level 1) are described as before levels existed,
    /// so their checkpoints still resume.</summary>
    public string Description =>
        $"{Store.Settings.Stories}x{Store.Settings.UnitsPerStory}" +
        (Store.Settings.Levels.SequenceEqual(new[] { 1 }) ? ""
            : $" levels {string.Join(",", Store.Settings.Levels)}") +
        $" seed {Store.Settings.Seed} vae {Store.Settings.Vae}";

    public List<TrainingUnit> Draw(MtdTrainOptions o, int level, int total, Rng rng)
    {
        var k = Store;
        var (shard, slot, stories) = k.Draw(rng, total);
        var positions = k.Positions(shard, slot);
        int stride = LongVideoSampling.MaxStride(positions);
        var given = k.Given(shard, slot);
        if (o.Role == TrainingRole.Local && stride == 1 && positions.Length == o.Length
            && rng.NextFloat() < o.AutoregressiveFraction)
            given = given.Select((_, i) => i == 0).ToArray();
        var clip = new TrainingClip(positions, given, stride, k.Level(slot));
        return stories.Select(story => new TrainingUnit(clip, i => k.UnitCaptions(shard, slot, story)[i],
            () => k.Latents(shard, slot, story), () => k.Annotations(shard, slot, story))).ToList();
    }
}
