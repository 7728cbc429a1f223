using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Unet;
using Longshot.Tensors;

namespace Longshot.Diffusion.Pipelines;

/// <summary>One clip for the MTD to generate: its frames' positions, prompts, given latents, and its own
/// seed.</summary>
/// <param name="Positions">True frame indices in the long video (L of them).</param>
/// <param name="Prompts">One prompt per frame.</param>
/// <param name="Given">Clean latents [c, h, w] of frames given as conditions (null entries are generated).</param>
/// <param name="Seed">The unit's noise comes only from this seed, whatever it is batched with.</param>
public sealed record MtdClip(int[] Positions, string[] Prompts, Tensor?[] Given, Rng Seed);

/// <summary>
/// Samples clips with an MTD: a batch of clips sharing the same frame spacing runs as one model call per step
/// (with classifier-free guidance as a second call on empty prompts). Each clip draws its noise from its own seed,
/// so results do not depend on how clips are batched.
/// </summary>
public sealed class MtdSampler(MtdPipelineParts parts, int latentChannels, int latentHeight, int latentWidth)
{
    public MtdPipelineParts Parts { get; } = parts;

    /// <summary>A fresh scheduler of the kind <paramref name="o"/> names, over this model's noise schedule.</summary>
    public Scheduler NewScheduler(SamplerOptions o) =>
        Scheduler.Create(o.Scheduler, Parts.Schedule.Config, new SchedulerOptions(o.Eta));

    /// <summary>
    /// Classifier-free guidance's two model calls per step as one call on a doubled batch. Off: on this CPU the two
    /// calls are faster (docs/performance.md, "Guidance in one call").
    /// </summary>
    public bool GuidanceInOneCall { get; init; }

    /// <summary>
    /// Given frames held during sampling: before every model call their slots are set to the given latents noised to
    /// that step's level, as training showed them to the model (given slots are noised like the rest there, the clean
    /// latents riding in the condition). Off, they start as noise and drift on the model's own outputs until the end
    /// (docs/performance.md, "Given frames held").
    /// </summary>
    public bool HoldGivenFrames { get; init; } = true;

    /// <summary>Temporal attention limited to frames at most this far apart (0: all frames of the clip).</summary>
    public int AttentionWindow { get; init; }

    /// <summary>Latents [L, c, h, w] for each clip; given frames come back exactly as given.</summary>
    public List<Tensor> Sample(IReadOnlyList<MtdClip> clips, SamplerOptions o, CancellationToken ct = default)
    {
        if (clips.Count == 0) return new List<Tensor>();
        int l = clips[0].Positions.Length;
        var rel = Relative(clips[0].Positions);
        foreach (var c in clips)
        {
            if (c.Positions.Length != l || c.Prompts.Length != l || c.Given.Length != l)
                throw new LongshotException("sampler: every clip of a batch needs the same number of frames, prompts " +
                "and given slots.");
            if (!Relative(c.Positions).SequenceEqual(rel))
                throw new LongshotException("sampler: clips of one batch must share their frame spacing.");
        }
        using var _ = Tensor.NoGrad();
        int b = clips.Count, n = b * l;
        var shape = new[] { l, latentChannels, latentHeight, latentWidth };
        var x = Ops.Concat(clips.Select(c => StartingNoise(c.Seed, shape, o.NoiseCorrelation)).ToList(), 0);
        var given = clips.SelectMany(c => c.Given.Select(g => g != null)).ToArray();
        var x0Given = Ops.Concat(clips.SelectMany(c =>
            c.Given.Select(g => g?.Reshape(1, latentChannels, latentHeight, latentWidth)
            ?? Tensor.Zeros(1, latentChannels, latentHeight, latentWidth))).ToList(), 0);
        var (cond, mask) = MtdConditions.Build(x0Given, given);
        var prompts = Parts.EncodePrompts(clips.SelectMany(c => c.Prompts).ToList());
        var empty = o.GuidanceScale != 1f ? Parts.EncodePrompts(Enumerable.Repeat("", n).ToList()) : null;
        var schedulers = clips.Select(_ => NewScheduler(o)).ToList();
        foreach (var s in schedulers) s.SetTimesteps(o.Steps);
        // The noise of the held given frames: fixed per clip (from its own seed), so each step sees one trajectory.
        bool hold = HoldGivenFrames && given.Any(g => g);
        var heldNoise = hold ? Ops.Concat(clips.Select(c => Tensor.Randn(c.Seed.Derive(0x601D), shape)).ToList(), 0)
            : null;
        var heldMask = hold ? Tensor.FromArray(given.Select(g => g ? 1f : 0f).ToArray(), n, 1, 1, 1) : null;
        var freeMask = hold ? Tensor.FromArray(given.Select(g => g ? 0f : 1f).ToArray(), n, 1, 1, 1) : null;
        var scope = AttentionWindow > 0 ? new TemporalScope(AttentionWindow) : null;
        foreach (int t in schedulers[0].Timesteps)
        {
            ct.ThrowIfCancellationRequested();
            var ts = Enumerable.Repeat(t, b).ToArray();
            if (hold)
                x = x * freeMask! + Parts.Schedule.AddNoise(x0Given, heldNoise!, Enumerable.Repeat(t, n).ToArray())
                    * heldMask!;
            Tensor eps;
            if (empty == null)
                eps = Parts.Unet.Forward(new MtdInput(x, ts, prompts, cond, mask, rel) { Scope = scope });
            else if (GuidanceInOneCall)
            {
                // Conditional and unconditional halves as one batch of 2b clips, as diffusers batches them.
                var both = Parts.Unet.Forward(new MtdInput(Ops.Concat(new[] { x, x }, 0), ts.Concat(ts).ToArray(),
                    Ops.Concat(new[] { prompts, empty }, 0), Ops.Concat(new[] { cond, cond }, 0),
                    Ops.Concat(new[] { mask, mask }, 0), rel) { Scope = scope });
                var epsC = both.Narrow(0, 0, n);
                var epsU = both.Narrow(0, n, n);
                eps = epsU + (epsC - epsU) * o.GuidanceScale;
            }
            else eps = Guided(Parts.Unet, new MtdInput(x, ts, prompts, cond, mask, rel) { Scope = scope }, empty,
                o.GuidanceScale);
            // Step each clip with its own scheduler and generator.
            var next = new List<Tensor>(b);
            for (int i = 0; i < b; i++)
                next.Add(schedulers[i].Step(eps.Narrow(0, i * l, l).Contiguous(), t, x.Narrow(0, i * l, l)
                    .Contiguous(), clips[i].Seed));
            x = Ops.Concat(next, 0);
        }
        var result = new List<Tensor>(b);
        for (int i = 0; i < b; i++)
        {
            var clip = x.Narrow(0, i * l, l).Contiguous().Clone();
            for (int f = 0; f < l; f++)
                if (clips[i].Given[f] is { } g) clip.Narrow(0, f, 1)
                    .CopyFrom(g.Reshape(1, latentChannels, latentHeight, latentWidth));
            result.Add(clip);
        }
        return result;
    }

    /// <summary>
    /// Classifier-free guidance as two model calls: the output for <paramref name="input"/> and for the same input
    /// with <paramref name="empty"/> prompts, mixed as uncond + (cond - uncond) * scale.
    /// </summary>
    internal static Tensor Guided(MaskUnet3D unet, MtdInput input, Tensor empty, float scale)
    {
        var cond = unet.Forward(input);
        var uncond = unet.Forward(input with { Prompts = empty });
        return uncond + (cond - uncond) * scale;
    }

    /// <summary>
    /// A unit's starting noise: independent per frame, or with a share rho common to all frames (noise correlated
    /// over time, as in PYoCo's mixed noise prior), which a deterministic sampler turns into frames that agree in
    /// their details instead of redrawing them frame by frame.
    /// </summary>
    internal static Tensor StartingNoise(Rng seed, int[] shape, float rho)
    {
        var own = Tensor.Randn(seed, shape);
        if (rho == 0) return own;
        var shared = Tensor.Randn(seed.Derive(0x5EED5), 1, shape[1], shape[2], shape[3]);
        return own * MathF.Sqrt(1 - rho) + shared * MathF.Sqrt(rho);
    }

    private static int[] Relative(int[] positions) => positions.Select(p => p - positions[0]).ToArray();
}
