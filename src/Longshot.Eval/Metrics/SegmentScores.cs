using System.Globalization;
using System.Text;
using Longshot.Diffusion.Pipelines;
using Longshot.Eval.Attributes;
using Longshot.Eval.Features;
using Longshot.Video.Imaging;

namespace Longshot.Eval.Metrics;

/// <summary>How one segment of a storyline shows in a video: the fraction of its frames in which the extractor sees
/// the asked place, the asked time of day, the asked framing, and each named character's shirt colour and accessory
/// (NaN where the prompt asks for none); the place the extractor sees most often there (what a missed place was
/// taken for); and, with a <see cref="ShirtReference"/>, how often it sees the same shirts at that framing on real
/// frames (<paramref name="ShirtsReal"/>) and on real frames after a round trip through the VAE (<paramref
/// name="ShirtsRoundTrip"/>: the most a model in its latent space could show), NaN without one.</summary>
public sealed record SegmentScore(int Start, int End, string Prompt, double Place, double Time, double Shirts,
    string SeenPlace = "", double Framing = double.NaN, double Accessories = double.NaN,
    double ShirtsReal = double.NaN, double ShirtsRoundTrip = double.NaN);

/// <summary>Per-segment story fidelity of a generated video (is every segment of the story recognisable?).</summary>
public static class SegmentScores
{
    /// <summary>Scores frames [0, frames.Count) against the story's segments (those that start inside the
    /// video), each beside the real frames' shirt rate of its asks when <paramref name="reference"/> is
    /// given, and beside the rate after a VAE round trip when <paramref name="roundTrip"/> is.</summary>
    public static List<SegmentScore> Score(FeatureExtractor extractor, IReadOnlyList<Frame> frames, Storyline story,
        ShirtReference? reference = null, ShirtReference? roundTrip = null)
    {
        int n = frames.Count;
        var prompts = Enumerable.Range(0, n).Select(story.PromptAt).ToList();
        var logits = new VideoEvaluator(extractor).Extract(new ScoredVideo(frames, prompts, new int[n])).FrameLogits;
        var decided = logits.Select(l => AttributeLoss.Decide(l, FrameAttributes.ChoiceGroups,
            FrameAttributes.PresenceGroups)).ToList();
        var scores = new List<SegmentScore>();
        foreach (var s in story.Segments.Where(s => s.Start < n))
        {
            var asked = PromptAttributes.Parse(s.Prompt);
            var range = Enumerable.Range(s.Start, Math.Min(s.End, n) - s.Start).ToList();
            double Rate(Func<bool[], bool> hit) => range.Average(f => hit(decided[f]) ? 1.0 : 0.0);
            double place = asked.Place == null ? double.NaN
                : Rate(d => d[FrameAttributes.PlaceAt + Array.IndexOf(FrameAttributes.Places, asked.Place)]);
            double time = asked.Time == null ? double.NaN
                : Rate(d => d[FrameAttributes.TimeAt + Array.IndexOf(FrameAttributes.Times, asked.Time)]);
            var shirts = asked.Characters.Where(c => c.Shirt != null)
                .Select(c => FrameAttributes.ShirtAt + Array.IndexOf(FrameAttributes.Shirts, c.Shirt)).ToList();
            double shirt = shirts.Count == 0 ? double.NaN : shirts.Average(at => Rate(d => d[at]));
            double framing = asked.Framing == null ? double.NaN
                : Rate(d => d[FrameAttributes.FramingAt + Array.IndexOf(FrameAttributes.Framings, asked.Framing)]);
            var accessories = asked.Characters.Where(c => c.Accessory != null)
                .Select(c => FrameAttributes.AccessoryAt + Array.IndexOf(FrameAttributes.Accessories, c.Accessory))
                .ToList();
            double accessory = accessories.Count == 0 ? double.NaN : accessories.Average(at => Rate(d => d[at]));
            var seen = FrameAttributes.Places.MaxBy(p => Rate(d => d[FrameAttributes.PlaceAt +
                Array.IndexOf(FrameAttributes.Places, p)]))!;
            scores.Add(new SegmentScore(s.Start, Math.Min(s.End, n), s.Prompt, place, time, shirt, seen, framing,
                accessory, reference?.For(asked) ?? double.NaN, roundTrip?.For(asked) ?? double.NaN));
        }
        return scores;
    }

    /// <summary>The scores as a Markdown table.</summary>
    public static string Markdown(IReadOnlyList<SegmentScore> scores)
    {
        static string Pct(double v) => double.IsNaN(v) ? "n/a" : (100 * v).ToString("F0", CultureInfo.InvariantCulture)
            + "%";
        bool real = scores.Any(s => !double.IsNaN(s.ShirtsReal));
        bool roundTrip = scores.Any(s => !double.IsNaN(s.ShirtsRoundTrip));
        var sb = new StringBuilder("| frames | place | time of day | framing | shirts | " +
            (real ? "shirts on real frames | " : "") + (roundTrip ? "shirts through the VAE | " : "") +
            "accessories | place seen most | prompt |\n" +
            "|---|---:|---:|---:|---:|" + (real ? "---:|" : "") + (roundTrip ? "---:|" : "") + "---:|---|---|\n");
        foreach (var s in scores)
            sb.Append($"| {s.Start}-{s.End} | {Pct(s.Place)} | {Pct(s.Time)} | {Pct(s.Framing)} | {Pct(s.Shirts)} | " +
                (real ? $"{Pct(s.ShirtsReal)} | " : "") + (roundTrip ? $"{Pct(s.ShirtsRoundTrip)} | " : "") +
                $"{Pct(s.Accessories)} | {s.SeenPlace} | {s.Prompt} |\n");
        return sb.ToString();
    }
}
