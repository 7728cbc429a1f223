using Longshot.Diffusion.Layers;
using Longshot.Tensors;
using Longshot.Tensors.Autograd;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet;

/// <summary>The inputs of one MTD call for a batch of B videos of L frames (N = B x L images).</summary>
/// <param name="Sample">Noisy latents x_t, [N, c, h, w].</param>
/// <param name="Timesteps">One diffusion timestep per video, length B.</param>
/// <param name="Prompts">Per-frame prompt embeddings, [N, l_p, d_p].</param>
/// <param name="Condition">Visual condition x0^c: clean latents of the given frames, zeros elsewhere, [N, c, h,
/// w].</param>
/// <param name="Mask">x0^m: 1 for given frames, 0 for frames to generate, [N, 1, h, w].</param>
/// <param name="Positions">True indices of the L frames in the long video (only their differences matter).</param>
public sealed record MtdInput(Tensor Sample, int[] Timesteps, Tensor Prompts, Tensor Condition, Tensor Mask,
    int[] Positions)
{
    public int Frames => Positions.Length;

    /// <summary>A local attention window and the exchange with neighbouring clips; null: full attention.</summary>
    public TemporalScope? Scope { get; init; }
}

/// <summary>
/// The Mask 3D-UNet of NUWA-XL (section 3.2, Fig. 3): down and up blocks with skip concatenation, the timestep
/// embedding added in every resnet, factorised spatial/temporal convolutions (temporal ones start as identity), the
/// visual condition and mask injected through zero-initialised scale/shift convolutions (multi-scale MI and
/// symmetric SI switchable), and an attention stack of spatial, prompt-cross and temporal attention.
/// It predicts what its noise schedule's prediction_type names: the noise epsilon, or the velocity v (the shipped
/// models; see <see cref="Schedulers.NoiseSchedule.PredictX0"/>).
/// </summary>
public sealed class MaskUnet3D : Module
{
    public const string WeightsFile = "diffusion_pytorch_model.safetensors";

    public MaskUnetConfig Config { get; }
    public ParameterStore Parameters { get; }

    private readonly TimestepEmbedding _time;
    private readonly SpatioTemporalConv _convIn, _convOut;
    private readonly List<Conv2d> _condEncoder = new();
    private readonly List<Level> _down = new(), _up = new();
    private readonly (UnetResnet R0, AttentionStack? Attn, ConditionInjection? Inject, UnetResnet R1) _mid;
    private readonly GroupNorm _normOut;

    private sealed class Level
    {
        public readonly List<(UnetResnet Resnet, ConditionInjection? Inject, AttentionStack? Attn)> Layers = new();
        public SpatioTemporalConv? Sampler;
        public int Index;
    }

    private MaskUnet3D(MaskUnetConfig cfg, ParameterStore store, VarBuilder vb)
    {
        cfg.Validate();
        Config = cfg; Parameters = store;
        var ch = cfg.BlockOutChannels;
        int tembDim = 4 * ch[0];
        var temporal = new TemporalSpec(cfg.TemporalKernelSize);
        _time = Child(new TimestepEmbedding(vb.Pp("time_embedding"), ch[0], tembDim));
        _convIn = Child(new SpatioTemporalConv(vb, "conv_in", cfg.InChannels, ch[0], 3, 1, 1, temporal));
        // The condition is brought to each resolution by a cascade of convolutions.
        for (int i = 0; i < ch.Length; i++)
            _condEncoder.Add(Child(new Conv2d(vb.Pp("cond_encoder").Pp(i), i == 0 ? cfg.InChannels : ch[i - 1], ch[i],
                3, stride: i == 0 ? 1 : 2, padding: 1)));

        var skips = new Stack<int>();
        skips.Push(ch[0]);
        int cur = ch[0];
        for (int i = 0; i < ch.Length; i++)
        {
            var bvb = vb.Pp("down_blocks").Pp(i);
            var level = new Level { Index = i };
            for (int j = 0; j < cfg.LayersPerBlock; j++)
            {
                var r = Child(new UnetResnet(bvb.Pp("resnets").Pp(j), cur, ch[i], tembDim, cfg));
                var inj = cfg.Injects(i, down: true)
                    ? Child(new ConditionInjection(bvb.Pp("injections").Pp(j), ch[i], ch[i])) : null;
                var at = cfg.AttentionLevels[i]
                    ? Child(new AttentionStack(bvb.Pp("attentions").Pp(j), bvb.Pp("temporal_attentions").Pp(j), ch[i],
                    cfg)) : null;
                level.Layers.Add((r, inj, at));
                cur = ch[i];
                skips.Push(cur);
            }
            if (i < ch.Length - 1)
            {
                level.Sampler = Child(new SpatioTemporalConv(bvb.Pp("downsamplers").Pp(0), "conv", cur, cur, 3, 2, 1,
                    temporal));
                skips.Push(cur);
            }
            _down.Add(level);
        }
        var mvb = vb.Pp("mid_block");
        int last = ch.Length - 1;
        _mid = (Child(new UnetResnet(mvb.Pp("resnets").Pp(0), cur, cur, tembDim, cfg)),
            cfg.AttentionLevels[last]
                ? Child(new AttentionStack(mvb.Pp("attentions").Pp(0), mvb.Pp("temporal_attentions").Pp(0), cur, cfg))
                : null,
            cfg.Injects(last, down: false)
                && cfg.MultiScaleInjection ? Child(new ConditionInjection(mvb.Pp("injections").Pp(0), cur, ch[last]))
                : null,
            Child(new UnetResnet(mvb.Pp("resnets").Pp(1), cur, cur, tembDim, cfg)));
        for (int u = 0; u < ch.Length; u++)
        {
            int i = ch.Length - 1 - u;
            var bvb = vb.Pp("up_blocks").Pp(u);
            var level = new Level { Index = i };
            for (int j = 0; j < cfg.LayersPerBlock + 1; j++)
            {
                int skip = skips.Pop();
                var r = Child(new UnetResnet(bvb.Pp("resnets").Pp(j), cur + skip, ch[i], tembDim, cfg));
                var inj = cfg.Injects(i, down: false)
                    ? Child(new ConditionInjection(bvb.Pp("injections").Pp(j), ch[i], ch[i])) : null;
                var at = cfg.AttentionLevels[i]
                    ? Child(new AttentionStack(bvb.Pp("attentions").Pp(j), bvb.Pp("temporal_attentions").Pp(j), ch[i],
                    cfg)) : null;
                level.Layers.Add((r, inj, at));
                cur = ch[i];
            }
            if (i > 0) level.Sampler = Child(new SpatioTemporalConv(bvb.Pp("upsamplers").Pp(0), "conv", cur, cur, 3, 1,
                1, temporal));
            _up.Add(level);
        }
        _normOut = Child(new GroupNorm(vb.Pp("conv_norm_out"), cfg.NormNumGroups, ch[0]));
        _convOut = Child(new SpatioTemporalConv(vb, "conv_out", ch[0], cfg.OutChannels, 3, 1, 1, temporal));
    }

    /// <summary>Recompute each layer's activations in the backward pass instead of keeping them (training
    /// memory).</summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>Every attention stack, down blocks, mid block, then up blocks.</summary>
    public IEnumerable<AttentionStack> AttentionStacks =>
        _down.Concat(_up).SelectMany(l => l.Layers).Select(x => x.Attn).Append(_mid.Attn).OfType<AttentionStack>();

    public static MaskUnet3D Create(MaskUnetConfig cfg, ulong seed = 0)
    {
        var store = new ParameterStore();
        return new MaskUnet3D(cfg, store, VarBuilder.Fresh(store, seed));
    }

    public static MaskUnet3D Load(string folder, bool strict = true)
    {
        var cfg = MaskUnetConfig.Load(Path.Combine(folder, "config.json"));
        var m = Create(cfg);
        var w = Path.Combine(folder, WeightsFile);
        m.Parameters.Load(SafeTensors.Load(w), strict, w);
        return m;
    }

    public void Save(string folder, DType dtype = DType.F32)
    {
        Directory.CreateDirectory(folder);
        Parameters.Save(Path.Combine(folder, WeightsFile), dtype, new Dictionary<string, string> { ["format"] = "pt" });
        Config.Save(Path.Combine(folder, "config.json"));
    }

    /// <summary>The model output for <see cref="MtdInput.Sample"/>: its noise or velocity (prediction_type).</summary>
    public Tensor Forward(MtdInput x)
    {
        int n = x.Sample.Shape[0], frames = x.Frames;
        if (frames < 1 || n % frames != 0)
            throw new LongshotException($"MTD: {n} images are not whole videos of {frames} frames.");
        int videos = n / frames;
        if (x.Timesteps.Length != videos)
            throw new LongshotException($"MTD: {x.Timesteps.Length} timesteps for {videos} videos.");
        if (x.Condition.Shape.AsSpan().SequenceEqual(x.Sample.Shape) == false)
            throw new LongshotException($"MTD: condition {x.Condition} does not match sample {x.Sample}.");
        if (x.Mask.Shape[0] != n || x.Mask.Shape[1] != 1)
            throw new LongshotException($"MTD: mask {x.Mask} must be [N, 1, h, w].");
        if (x.Prompts.Shape[0] != n) throw new LongshotException($"MTD: {x.Prompts.Shape[0]} prompts for {n} frames.");
        int down = 1 << (Config.BlockOutChannels.Length - 1);
        if (x.Sample.Shape[2] % down != 0 || x.Sample.Shape[3] % down != 0)
            throw new LongshotException($"MTD: latent size {x.Sample.Shape[2]}x{x.Sample.Shape[3]} is not divisible " +
            $"by {down}.");

        var temb = _time.Forward(x.Timesteps.SelectMany(t => Enumerable.Repeat(t, frames)).ToArray());
        // Condition features and mask at every resolution.
        var conds = new List<Tensor>(); var masks = new List<Tensor>();
        Tensor c = x.Condition, m = x.Mask;
        for (int i = 0; i < _condEncoder.Count; i++)
        {
            c = Ops.Silu(_condEncoder[i].Forward(c));
            if (i > 0) m = Ops.AvgPool(m, 2, 2);
            conds.Add(c); masks.Add(m);
        }

        var sc = x.Scope;
        if (sc?.Exchange != null && videos != 1)
            throw new LongshotException($"MTD: a temporal exchange runs one video per call, got {videos}.");
        int t0 = x.Timesteps[0];
        // One resnet, injection and attention stack; under gradient checkpointing its activations are recomputed in
        // the backward pass instead of kept.
        Tensor Layer((UnetResnet R, ConditionInjection? Inject, AttentionStack? Attn) l, Tensor input, int index)
        {
            Tensor Body(Tensor[] a)
            {
                var y = l.R.Forward(a[0], a[1], frames, sc);
                if (l.Inject != null) y = l.Inject.Forward(y, a[3], a[4]);
                return l.Attn != null ? l.Attn.Forward(y, a[2], frames, x.Positions, sc, t0) : y;
            }
            var inputs = new[] { input, temb, x.Prompts, conds[index], masks[index] };
            return GradientCheckpointing ? Checkpoint.Run(Body, inputs) : Body(inputs);
        }

        var h = _convIn.Forward(x.Sample, frames, sc);
        var skips = new Stack<Tensor>();
        skips.Push(h);
        foreach (var level in _down)
        {
            foreach (var layer in level.Layers)
            {
                h = Layer(layer, h, level.Index);
                skips.Push(h);
            }
            if (level.Sampler != null) { h = level.Sampler.Forward(h, frames, sc); skips.Push(h); }
        }
        int last = conds.Count - 1;
        h = _mid.R0.Forward(h, temb, frames, sc);
        if (_mid.Inject != null) h = _mid.Inject.Forward(h, conds[last], masks[last]);
        if (_mid.Attn != null) h = _mid.Attn.Forward(h, x.Prompts, frames, x.Positions, sc, t0);
        h = _mid.R1.Forward(h, temb, frames, sc);
        foreach (var level in _up)
        {
            foreach (var layer in level.Layers) h = Layer(layer, Ops.Concat(new[] { h, skips.Pop() }, 1), level.Index);
            if (level.Sampler != null) h = level.Sampler.Forward(Ops.UpsampleNearest(h, 2, 2), frames,
                sc);
        }
        return _convOut.Forward(_normOut.Forward(h, silu: true), frames, sc);
    }
}
