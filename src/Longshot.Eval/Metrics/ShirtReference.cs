using Longshot.Eval.Attributes;
using Longshot.Eval.Features;
using Longshot.Tensors;
using Longshot.Video.Store;

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
        var episodes = store.Episodes.Where(e => e.FrameCount > 0 && e.Annotation(0) != null).ToList();
        if (episodes.Count == 0) throw new LongshotException($"{store.Root}: no annotated episodes to measure.");
        foreach (var ep in episodes)
        {
            var picked = Enumerable.Range(0, (ep.FrameCount + every - 1) / every).Select(i => i * every).ToList();
            foreach (var batch in picked.Chunk(64))
            {
                ct.ThrowIfCancellationRequested();
                using var _ = Tensor.NoGrad();
                var x = Ops.Stack(batch.Select(f => ep.ReadFrame(f).ToTensor()).ToList(), 0);
                var logits = extractor.Frames(x).Logits.ToArray();
                for (int i = 0; i < batch.Length; i++)
                {
                    var seen = AttributeLoss.Decide(logits.AsSpan(i * FrameAttributes.Count, FrameAttributes.Count),
                        FrameAttributes.ChoiceGroups, FrameAttributes.PresenceGroups);
                    var a = ep.Annotation(batch[i])!;
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
        return new ShirtReference(counts);
    }
}
