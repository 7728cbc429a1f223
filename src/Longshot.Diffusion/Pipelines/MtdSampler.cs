using Longshot.Diffusion.Layers;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Unet;
using Longshot.Tensors;
using Longshot.Tensors.Devices;

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
    /// Classifier-free guidance's two model calls per step as one call on a doubled batch. Unset, the model's device
    /// decides: one call on an accelerator (it wants the batch), two on the CPU, where they are faster
    /// (docs/performance.md, "Guidance in one call").
    /// </summary>
    public bool? GuidanceInOneCall { get; init; }

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
        var fillStarts = o.FillStart < 1 ? clips.Select(c => FillStartLatents(c, shape)).ToList() : null;
        if (fillStarts != null && fillStarts.Any(f => f == null))
        {
            if (fillStarts.All(f => f == null)) fillStarts = null;
            else return SampleApart(clips, fillStarts.Select(f => f != null).ToArray(), o, ct);
        }
        // Latents come and go on the host; the model's work runs where its parameters are.
        var device = Parts.Device;
        var x = Ops.Concat(clips.Select(c => StartingNoise(c.Seed, shape, o.NoiseCorrelation)).ToList(), 0)
            .ToDevice(device);
        var given = clips.SelectMany(c => c.Given.Select(g => g != null)).ToArray();
        var x0Given = Ops.Concat(clips.SelectMany(c =>
            c.Given.Select(g => g?.Reshape(1, latentChannels, latentHeight, latentWidth)
            ?? Tensor.Zeros(1, latentChannels, latentHeight, latentWidth))).ToList(), 0);
        var (cond, mask) = MtdConditions.Build(x0Given, given);
        (x0Given, cond, mask) = (x0Given.ToDevice(device), cond.ToDevice(device), mask.ToDevice(device));
        var prompts = Parts.EncodePrompts(clips.SelectMany(c => c.Prompts).ToList());
        var empty = o.GuidanceScale != 1f ? Parts.EncodePrompts(Enumerable.Repeat("", n).ToList()) : null;
        var schedulers = clips.Select(_ => NewScheduler(o)).ToList();
        foreach (var s in schedulers) s.SetTimesteps(o.Steps);
        if (fillStarts != null)
        {
            // Start from the given frames blended along their shots, noised to the first kept timestep.
            foreach (var s in schedulers) s.StartAt(o.FillStart);
            x = Parts.Schedule.AddNoise(Ops.Concat(fillStarts.Select(f => f!).ToList(), 0).ToDevice(device), x,
                Enumerable.Repeat(schedulers[0].Timesteps[0], n).ToArray());
        }
        // The noise of the held given frames: fixed per clip (from its own seed), so each step sees one trajectory.
        bool hold = HoldGivenFrames && given.Any(g => g);
        var heldNoise = hold ? Ops.Concat(clips.Select(c => Tensor.Randn(c.Seed.Derive(0x601D), shape)).ToList(), 0)
            .ToDevice(device) : null;
        var heldMask = hold ? Tensor.FromArray(given.Select(g => g ? 1f : 0f).ToArray(), n, 1, 1, 1).ToDevice(device)
            : null;
        var freeMask = hold ? Tensor.FromArray(given.Select(g => g ? 0f : 1f).ToArray(), n, 1, 1, 1).ToDevice(device)
            : null;
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
            else if (GuidanceInOneCall ?? device != Tensors.Devices.Device.Cpu)
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
        x = x.ToDevice(Device.Cpu);
        for (int i = 0; i < b; i++)
        {
            var clip = x.Narrow(0, i * l, l).Contiguous().Clone();
            if (fillStarts != null && o.FillEase > 1)
            {
                var keep = Tensor.FromArray(FillEase(clips[i], o.FillEase), l, 1, 1, 1);
                clip = (fillStarts[i]! + (clip - fillStarts[i]!) * keep).Contiguous();
            }
            for (int f = 0; f < l; f++)
                if (clips[i].Given[f] is { } g) clip.Narrow(0, f, 1)
                    .CopyFrom(g.Reshape(1, latentChannels, latentHeight, latentWidth));
            result.Add(clip);
        }
        return result;
    }

    /// <summary>Clips that start from their fill start and clips that start from noise, sampled as two batches (a
    /// batch shares its timesteps), the results in the clips' order.</summary>
    private List<Tensor> SampleApart(IReadOnlyList<MtdClip> clips, bool[] fill, SamplerOptions o, CancellationToken ct)
    {
        var filled = new Queue<Tensor>(Sample(clips.Where((_, i) => fill[i]).ToList(), o, ct));
        var noised = new Queue<Tensor>(Sample(clips.Where((_, i) => !fill[i]).ToList(), o, ct));
        return fill.Select(f => f ? filled.Dequeue() : noised.Dequeue()).ToList();
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

    /// <summary>
    /// Where the clip starts when sampled from <see cref="SamplerOptions.FillStart"/>: latents [L, c, h, w], each
    /// generated frame the linear blend, by true position, of the nearest given frames before and after it that show
    /// its scene (<see cref="Storyline.SceneOf"/>: its shot), or the one of them that does. Null, so the clip starts
    /// from pure noise, when a generated frame lies outside its given frames (nothing is extrapolated) or shares its
    /// scene with neither of them (nothing is blended across a cut).
    /// </summary>
    internal static Tensor? FillStartLatents(MtdClip c, int[] shape)
    {
        var frames = new List<Tensor>(c.Given.Length);
        for (int f = 0; f < c.Given.Length; f++)
        {
            if (c.Given[f] is { } g) { frames.Add(g.Reshape(1, shape[1], shape[2], shape[3])); continue; }
            if (SceneNeighbours(c, f) is not var (before, after)) return null;
            Tensor start;
            if (before >= 0 && after >= 0)
            {
                float w = (c.Positions[f] - c.Positions[before]) / (float)(c.Positions[after] - c.Positions[before]);
                start = c.Given[before]! * (1 - w) + c.Given[after]! * w;
            }
            else if (before >= 0 || after >= 0) start = c.Given[Math.Max(before, after)]!;
            else return null;
            frames.Add(start.Reshape(1, shape[1], shape[2], shape[3]));
        }
        return Ops.Concat(frames, 0);
    }

    /// <summary>
    /// How much of the sampler's change to its fill start each frame of a fill keeps
    /// (<see cref="SamplerOptions.FillEase"/>): 0 at given frames, k / ease at k slots from the nearest given frame of
    /// its scene, 1 from ease slots on. The fill eases out of and into its given frames instead of jumping at them.
    /// </summary>
    internal static float[] FillEase(MtdClip c, int ease)
    {
        var keep = new float[c.Given.Length];
        for (int f = 0; f < keep.Length; f++)
        {
            if (c.Given[f] != null) continue;
            var (before, after) = SceneNeighbours(c, f) ?? (-1, -1);
            int k = Math.Min(before >= 0 ? f - before : int.MaxValue, after >= 0 ? after - f : int.MaxValue);
            keep[f] = Math.Min(1f, k / (float)ease);
        }
        return keep;
    }

    /// <summary>The nearest given slots before and after generated slot <paramref name="f"/> that show its scene (-1:
    /// another scene); null when no given slot lies on one side at all.</summary>
    private static (int Before, int After)? SceneNeighbours(MtdClip c, int f)
    {
        int before = Array.FindLastIndex(c.Given, f, x => x != null);
        int after = Array.FindIndex(c.Given, f, x => x != null);
        if (before < 0 || after < 0) return null;
        string scene = Storyline.SceneOf(c.Prompts[f]);
        return (Storyline.SceneOf(c.Prompts[before]) == scene ? before : -1,
            Storyline.SceneOf(c.Prompts[after]) == scene ? after : -1);
    }

    private static int[] Relative(int[] positions) => positions.Select(p => p - positions[0]).ToArray();
}
