using Longshot.Diffusion.Vae;
using Longshot.Eval.Attributes;
using Longshot.Eval.Features;
using Longshot.Tensors;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;

namespace Longshot.Eval.Metrics;

/// <summary>
/// How often the extractor sees a shirt colour on real frames, by framing: of the visible characters wearing it in
/// annotated real frames, the fraction whose colour the extractor reports. A generated segment's shirt rate is read
/// against it, since small figures in wide shots are missed on real frames too.
/// </summary>
public sealed class ShirtReference
{
    private readonly Dictionary<(string Framing, string Shirt), (int Seen, int Count)> _counts;

    private ShirtReference(Dictionary<(string, string), (int, int)> counts) => _counts = counts;

    /// <summary>Real characters counted for a framing and shirt colour.</summary>
    public int Count(string framing, string shirt) => _counts.GetValueOrDefault((framing, shirt)).Count;

    /// <summary>The fraction of real characters of that framing and shirt colour whose colour is seen; NaN when none
    /// was counted.</summary>
    public double Rate(string framing, string shirt) =>
        _counts.TryGetValue((framing, shirt), out var c) && c.Count > 0 ? (double)c.Seen / c.Count : double.NaN;

    /// <summary>What a segment asking for <paramref name="asked"/> could score on real frames: the mean rate of its
    /// named shirts at its framing; NaN without a framing or a shirt.</summary>
    public double For(PromptAttributes asked)
    {
        var shirts = asked.Characters.Where(c => c.Shirt != null).Select(c => c.Shirt!).ToList();
        return asked.Framing == null || shirts.Count == 0 ? double.NaN
            : shirts.Average(s => Rate(asked.Framing, s));
    }

    /// <summary>Counts every <paramref name="every"/>-th frame of every annotated episode of <paramref
    /// name="store"/>.</summary>
    public static ShirtReference Measure(FeatureExtractor extractor, DatasetStore store, int every = 8,
        CancellationToken ct = default)
    {
        if (every < 1) throw new LongshotException("shirt reference: every must be at least 1.");
        var counts = new Dictionary<(string, string), (int, int)>();
        foreach (var ep in AnnotatedEpisodes(store))
        {
            var picked = Enumerable.Range(0, (ep.FrameCount + every - 1) / every).Select(i => i * every).ToList();
            foreach (var batch in picked.Chunk(64))
            {
                ct.ThrowIfCancellationRequested();
                using var _ = Tensor.NoGrad();
                var x = Ops.Stack(batch.Select(f => ep.ReadFrame(f).ToTensor()).ToList(), 0);
                Add(counts, extractor, x, batch.Select(f => ep.Annotation(f)!).ToList());
            }
        }
        return new ShirtReference(counts);
    }

    /// <summary>
    /// The real count and, on the same frames, the count after a round trip through <paramref name="vae"/> (encoded
    /// and decoded as generation decodes): the most a diffusion model in that latent space could show. The VAE is
    /// temporal, so frames are taken as windows of <paramref name="window"/> consecutive frames, one starting every
    /// <paramref name="every"/> frames of every annotated episode.
    /// </summary>
    public static (ShirtReference Real, ShirtReference RoundTrip) MeasureRoundTrip(FeatureExtractor extractor,
        DatasetStore store, AutoencoderKL vae, int every = 160, int window = 16, CancellationToken ct = default)
    {
        if (window < 1 || every < window)
            throw new LongshotException("shirt reference: windows must hold a frame and not overlap.");
        var codec = ChunkedVideoCodec.ForGeneration(vae);
        var real = new Dictionary<(string, string), (int, int)>();
        var roundTrip = new Dictionary<(string, string), (int, int)>();
        foreach (var ep in AnnotatedEpisodes(store))
            for (int start = 0; start + window <= ep.FrameCount; start += every)
            {
                ct.ThrowIfCancellationRequested();
                using var _ = Tensor.NoGrad();
                var x = Ops.Stack(Enumerable.Range(start, window).Select(f => ep.ReadFrame(f).ToTensor()).ToList(),
                    0);
                var z = codec.Encode((a, n) => x.Narrow(0, a, n).Contiguous(), window, ct);
                var decoded = Ops.Stack(codec.Decode(z, ct).ToList(), 0);
                var annotations = Enumerable.Range(start, window).Select(f => ep.Annotation(f)!).ToList();
                Add(real, extractor, x, annotations);
                Add(roundTrip, extractor, decoded, annotations);
            }
        return (new ShirtReference(real), new ShirtReference(roundTrip));
    }

    private static List<StoredEpisode> AnnotatedEpisodes(DatasetStore store)
    {
        var episodes = store.Episodes.Where(e => e.FrameCount > 0 && e.Annotation(0) != null).ToList();
        return episodes.Count > 0 ? episodes
            : throw new LongshotException($"{store.Root}: no annotated episodes to measure.");
    }

    /// <summary>Counts the visible characters of <paramref name="annotations"/> and whether the extractor sees their
    /// shirt colour in the matching frames of <paramref name="frames"/> [n, 3, h, w].</summary>
    private static void Add(Dictionary<(string, string), (int, int)> counts, FeatureExtractor extractor, Tensor frames,
        IReadOnlyList<FrameAnnotation> annotations)
    {
        var logits = extractor.Frames(frames).Logits.ToArray();
        for (int i = 0; i < annotations.Count; i++)
        {
            var seen = AttributeLoss.Decide(logits.AsSpan(i * FrameAttributes.Count, FrameAttributes.Count),
                FrameAttributes.ChoiceGroups, FrameAttributes.PresenceGroups);
            var a = annotations[i];
            foreach (var c in a.Characters.Where(c => c.Visible))
            {
                var key = (a.Framing, c.Shirt);
                var (s, n) = counts.GetValueOrDefault(key);
                int at = FrameAttributes.ShirtAt + Array.IndexOf(FrameAttributes.Shirts, c.Shirt);
                counts[key] = (s + (seen[at] ? 1 : 0), n + 1);
            }
        }
    }
}
