using Longshot.Diffusion.Pipelines;
using Longshot.Eval.Attributes;
using Longshot.Eval.Features;
using Longshot.Tensors;
using Longshot.Video.Imaging;

namespace Longshot.Eval.Metrics;

/// <summary>A video to score: its frames, the prompt each frame was asked for, and the story's shot id of each
/// frame.</summary>
public sealed record ScoredVideo(IReadOnlyList<Frame> Frames, IReadOnlyList<string> Prompts, IReadOnlyList<int> Shots)
{
    public void Validate()
    {
        if (Frames.Count == 0) throw new LongshotException("evaluation: a video has no frames.");
        if (Prompts.Count != Frames.Count || Shots.Count != Frames.Count)
            throw new LongshotException($"evaluation: {Frames.Count} frames but {Prompts.Count} prompts and " +
                $"{Shots.Count} shot ids.");
        if (Levels != null && Levels.Any(l => l.Any(f => f < 0 || f >= Frames.Count)))
            throw new LongshotException($"evaluation: a level names a frame outside the video's {Frames.Count}.");
    }

    /// <summary>The frames each level of the generation drew (<see cref="GenerationPlan.LevelFrames"/>), so story
    /// accuracy can be told per level; null for real videos and one-level schemes.</summary>
    public IReadOnlyList<IReadOnlyList<int>>? Levels { get; init; }
}

/// <summary>
/// Scores of a set of generated videos against the real videos of the same stories. NaN where a score is undefined
/// (consistency needs a character seen in two shots).
/// </summary>
/// <param name="AvgFid">Fréchet distance of frame features, all frames pooled (NUWA-XL's Avg-FID).</param>
/// <param name="BlockFvd">Fréchet distance of clip features of every X-frame block (B-FVD-X), blocks pooled.</param>
/// <param name="StoryAccuracy">Fraction of the attributes each frame's prompt asks for that the classifier
/// sees.</param>
/// <param name="Consistency">Fraction of a character's later single-character shots whose look (shirt colour) matches
/// its first.</param>
/// <param name="Jitter">Mean frame-to-frame change inside shots (0..1; lower is smoother).</param>
/// <param name="CutF1">F1 of detected cuts against the story's shot boundaries.</param>
public sealed record VideoScores(double AvgFid, double BlockFvd, double StoryAccuracy, double Consistency,
    double Jitter, double CutF1, int Frames, int Blocks)
{
    /// <summary>Story accuracy per kind of attribute (<see cref="VideoEvaluator.StoryAttributes"/>): of all the frames'
    /// asks of that kind, the fraction seen; NaN for a kind never asked. Null in results saved before it existed.
    /// </summary>
    public IReadOnlyDictionary<string, double>? StoryByAttribute { get; init; }

    /// <summary>Story accuracy of the frames each level drew (<see cref="ScoredVideo.Levels"/>; level 1 first), so
    /// what the global model lost can be told from what the fills lost. Null when the videos carry no levels or not
    /// the same number of them.</summary>
    public IReadOnlyList<double>? StoryByLevel { get; init; }
}

/// <summary>Computes <see cref="VideoScores"/> with a feature extractor.</summary>
public sealed class VideoEvaluator(FeatureExtractor extractor, int blockFrames = 16)
{
    public FeatureExtractor Extractor { get; } = extractor;
    public int BlockFrames { get; } = blockFrames >= 2 ? blockFrames
        : throw new LongshotException("B-FVD: blocks need at least 2 frames.");

    /// <summary>Per-frame features and attribute logits, and per-block clip features, of one video.</summary>
    public sealed record Features(List<float[]> FrameFeatures, List<float[]> FrameLogits, List<float[]> BlockFeatures);

    public Features Extract(ScoredVideo v)
    {
        v.Validate();
        using var _ = Tensor.NoGrad();
        var ff = new List<float[]>();
        var fl = new List<float[]>();
        for (int s = 0; s < v.Frames.Count; s += 64)
        {
            var batch = Stack(v.Frames.Skip(s).Take(64).ToList());
            var (f, l) = Extractor.Frames(batch);
            ff.AddRange(Rows(f)); fl.AddRange(Rows(l));
        }
        // Blocks of X consecutive frames (an incomplete tail is dropped), resampled to the clip encoder's length.
        var bf = new List<float[]>();
        int t = Extractor.Config.ClipFrames, blocks = v.Frames.Count / BlockFrames;
        for (int b0 = 0; b0 < blocks; b0 += 4)
        {
            var frames = new List<Frame>();
            for (int b = b0; b < Math.Min(blocks, b0 + 4); b++)
                for (int i = 0; i < t; i++) frames.Add(v.Frames[b * BlockFrames
                    + (int)((long)i * (BlockFrames - 1) / Math.Max(1, t - 1))]);
            bf.AddRange(Rows(Extractor.Clips(Stack(frames)).Features));
        }
        return new Features(ff, fl, bf);
    }

    /// <summary>Scores generated videos against the real videos of the same stories.</summary>
    public VideoScores Score(IReadOnlyList<ScoredVideo> generated, IReadOnlyList<ScoredVideo> real)
    {
        var gen = generated.Select(Extract).ToList();
        var reference = real.Select(Extract).ToList();
        return Score(generated, gen, reference);
    }

    /// <summary>Scores from features already extracted (the real videos' features can be reused across
    /// schemes).</summary>
    public VideoScores Score(IReadOnlyList<ScoredVideo> generated, IReadOnlyList<Features> gen,
        IReadOnlyList<Features> reference)
    {
        var genFrames = gen.SelectMany(g => g.FrameFeatures).ToList();
        var realFrames = reference.SelectMany(g => g.FrameFeatures).ToList();
        var genBlocks = gen.SelectMany(g => g.BlockFeatures).ToList();
        var realBlocks = reference.SelectMany(g => g.BlockFeatures).ToList();
        double fid = FrechetDistance.Compute(genFrames, realFrames);
        double fvd = genBlocks.Count > 0
            && realBlocks.Count > 0 ? FrechetDistance.Compute(genBlocks, realBlocks) : double.NaN;
        var checks = generated.Zip(gen).SelectMany(p => p.First.Prompts.Select((prompt, i) =>
            StoryChecks(prompt, p.Second.FrameLogits[i]).ToList())).ToList();
        // Each frame's hit rate, in the videos' order: the story accuracy pools them, the levels pick theirs.
        var rates = checks.Select(HitRate).ToList();
        double story = Mean(rates);
        var byAttribute = StoryAttributes.ToDictionary(a => a, a =>
            Mean(checks.SelectMany(c => c).Where(c => c.Attribute == a).Select(c => c.Hit ? 1.0 : 0.0)));
        double consistency = Mean(generated.Zip(gen).Select(p => Consistency(p.First, p.Second.FrameLogits)));
        double jitter = Mean(generated.Select(v => VideoSignals.Jitter(v.Frames, v.Shots)));
        double cuts = Mean(generated.Select(v =>
            VideoSignals.CutF1(VideoSignals.DetectCuts(v.Frames, Extractor.Config.CutThreshold),
            VideoSignals.ShotStarts(v.Shots))));
        return new VideoScores(fid, fvd, story, consistency, jitter, cuts, genFrames.Count, genBlocks.Count)
        {
            StoryByAttribute = byAttribute,
            StoryByLevel = ByLevel(generated, rates),
        };
    }

    /// <summary>Story accuracy over the frames of each level, videos pooled; null unless every video names the same
    /// number of levels.</summary>
    private static List<double>? ByLevel(IReadOnlyList<ScoredVideo> videos, List<double> frameRates)
    {
        int levels = videos[0].Levels?.Count ?? 0;
        if (levels < 2 || videos.Any(v => v.Levels?.Count != levels)) return null;
        var starts = new int[videos.Count];
        for (int i = 1; i < videos.Count; i++) starts[i] = starts[i - 1] + videos[i - 1].Frames.Count;
        return Enumerable.Range(0, levels).Select(k => Mean(videos.SelectMany((v, i) =>
            v.Levels![k].Select(f => frameRates[starts[i] + f])))).ToList();
    }

    /// <summary>The kinds of attribute a prompt can ask for, as <see cref="StoryChecks"/> names them.</summary>
    public static readonly string[] StoryAttributes = ["place", "time", "framing", "shirt", "accessory"];

    /// <summary>Fraction of what a prompt asks for (place, time, framing, each character's shirt and accessory) seen in
    /// the frame; NaN if it asks nothing.</summary>
    public static double StoryAccuracy(string prompt, float[] logits) =>
        HitRate(StoryChecks(prompt, logits).ToList());

    /// <summary>The share of checks that hit; NaN for none.</summary>
    private static double HitRate(List<(string Attribute, bool Hit)> checks) =>
        checks.Count == 0 ? double.NaN : checks.Count(c => c.Hit) / (double)checks.Count;

    /// <summary>Each attribute a prompt asks for, by kind, and whether the classifier sees it in the frame.</summary>
    public static IEnumerable<(string Attribute, bool Hit)> StoryChecks(string prompt, float[] logits)
    {
        var asked = PromptAttributes.Parse(prompt);
        var d = AttributeLoss.Decide(logits, FrameAttributes.ChoiceGroups, FrameAttributes.PresenceGroups);
        if (asked.Place != null)
            yield return ("place", d[FrameAttributes.PlaceAt + Array.IndexOf(FrameAttributes.Places, asked.Place)]);
        if (asked.Time != null)
            yield return ("time", d[FrameAttributes.TimeAt + Array.IndexOf(FrameAttributes.Times, asked.Time)]);
        if (asked.Framing != null) yield return ("framing", d[FrameAttributes.FramingAt
            + Array.IndexOf(FrameAttributes.Framings, asked.Framing)]);
        foreach (var c in asked.Characters)
        {
            if (c.Shirt != null)
                yield return ("shirt", d[FrameAttributes.ShirtAt + Array.IndexOf(FrameAttributes.Shirts, c.Shirt)]);
            if (c.Accessory != null) yield return ("accessory", d[FrameAttributes.AccessoryAt
                + Array.IndexOf(FrameAttributes.Accessories, c.Accessory)]);
        }
    }

    /// <summary>
    /// Long-term consistency of one video: in every shot whose prompts name exactly one character, the character's
    /// look is the shirt colour the classifier sees most often in that shot; a character is consistent
    /// in a later shot when that look equals the look of its first shot. NaN when no character appears in two shots.
    /// </summary>
    public static double Consistency(ScoredVideo v, IReadOnlyList<float[]> logits)
    {
        var looks = new Dictionary<int, (string Name, List<string> Votes)>();
        for (int i = 0; i < v.Frames.Count; i++)
        {
            var people = PromptAttributes.Parse(v.Prompts[i]).Characters;
            if (people.Count != 1) continue;
            if (!looks.TryGetValue(v.Shots[i], out var shot)) looks[v.Shots[i]] = shot = (people[0].Name,
                new List<string>());
            if (shot.Name != people[0].Name) continue;
            shot.Votes.Add(Look(logits[i]));
        }
        var byCharacter = looks.OrderBy(kv => kv.Key)
            .Select(kv =>
            (kv.Value.Name, Look: kv.Value.Votes.GroupBy(x => x).OrderByDescending(g => g.Count()).First().Key))
            .GroupBy(s => s.Name).Where(g => g.Count() > 1).ToList();
        if (byCharacter.Count == 0) return double.NaN;
        return byCharacter.Average(g => g.Skip(1).Count(s => s.Look == g.First().Look) / (double)(g.Count() - 1));
    }

    /// <summary>
    /// The most likely shirt colour seen in a frame. Accessories are left out: the shipped extractor tells them apart
    /// on unseen casts far less reliably than colours (docs/results.md), and would make real video look inconsistent.
    /// </summary>
    private static string Look(float[] logits) =>
        FrameAttributes.Shirts[ArgMax(logits, FrameAttributes.ShirtAt, FrameAttributes.Shirts.Length)];

    private static int ArgMax(float[] x, int at, int n)
    {
        int best = 0;
        for (int i = 1; i < n; i++) if (x[at + i] > x[at + best]) best = i;
        return best;
    }

    private static double Mean(IEnumerable<double> xs)
    {
        var v = xs.Where(x => !double.IsNaN(x)).ToList();
        return v.Count == 0 ? double.NaN : v.Average();
    }

    private static Tensor Stack(IReadOnlyList<Frame> frames) => Ops.Stack(frames.Select(f => f.ToTensor()).ToList(), 0);

    private static IEnumerable<float[]> Rows(Tensor t)
    {
        var a = t.ToArray();
        int d = t.Shape[1];
        for (int i = 0; i < t.Shape[0]; i++) yield return a.AsSpan(i * d, d).ToArray();
    }
}
