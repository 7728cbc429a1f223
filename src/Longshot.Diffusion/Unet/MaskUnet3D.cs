using Longshot.Diffusion.Layers;
using Longshot.Tensors;
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
    private readonly List<DownBlock> _down = new();
    private readonly MidBlock _mid;
    private readonly List<UpBlock> _up = new();
    private readonly GroupNorm _normOut;

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
        // The skip connections' channels: conv_in's output, then every output the down blocks keep.
        var skips = new Stack<int>();
        skips.Push(ch[0]);
        for (int i = 0; i < ch.Length; i++)
        {
            var block = Child(new DownBlock(vb.Pp("down_blocks").Pp(i), i, i == 0 ? ch[0] : ch[i - 1], tembDim, cfg));
            foreach (int c in block.SkipChannels(cfg, i)) skips.Push(c);
            _down.Add(block);
        }
        _mid = Child(new MidBlock(vb.Pp("mid_block"), ch[^1], tembDim, cfg));
        for (int u = 0; u < ch.Length; u++)
        {
            int i = ch.Length - 1 - u;
            _up.Add(Child(new UpBlock(vb.Pp("up_blocks").Pp(u), i, u == 0 ? ch[^1] : ch[i + 1], skips, tembDim,
                cfg)));
        }
        _normOut = Child(new GroupNorm(vb.Pp("conv_norm_out"), cfg.NormNumGroups, ch[0]));
        _convOut = Child(new SpatioTemporalConv(vb, "conv_out", ch[0], cfg.OutChannels, 3, 1, 1, temporal));
    }

    /// <summary>Recompute each layer's activations in the backward pass instead of keeping them (training
    /// memory).</summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>Every attention stack, down blocks, mid block, then up blocks.</summary>
    public IEnumerable<AttentionStack> AttentionStacks =>
        _down.SelectMany(b => b.Layers).Concat(_up.SelectMany(b => b.Layers)).Select(l => l.Attention)
            .Append(_mid.Attention).OfType<AttentionStack>();

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
        // 1. Check inputs.
        int frames = x.Frames, videos = CheckInput(x);
        var sc = x.Scope;
        if (sc?.Exchange != null && videos != 1)
            throw new LongshotException($"MTD: a temporal exchange runs one video per call, got {videos}.");
        // 2. Embed the timestep (one per video, shared by its frames).
        var temb = _time.Forward(x.Timesteps.SelectMany(t => Enumerable.Repeat(t, frames)).ToArray());
        // 3. Encode the condition and its mask at every resolution.
        var conds = new List<Tensor>(); var masks = new List<Tensor>();
        Tensor c = x.Condition, m = x.Mask;
        for (int i = 0; i < _condEncoder.Count; i++)
        {
            c = Ops.Silu(_condEncoder[i].Forward(c));
            if (i > 0) m = Ops.AvgPool(m, 2, 2);
            conds.Add(c); masks.Add(m);
        }
        var context = new UnetContext(temb, x.Prompts, conds, masks, frames, x.Positions, sc, x.Timesteps[0],
            GradientCheckpointing);
        // 4. Down blocks, keeping every output for the skips.
        var h = _convIn.Forward(x.Sample, frames, sc);
        var skips = new Stack<Tensor>();
        skips.Push(h);
        foreach (var block in _down) h = block.Forward(h, context, skips);
        // 5. Mid block.
        h = _mid.Forward(h, context);
        // 6. Up blocks, each layer taking a skip.
        foreach (var block in _up) h = block.Forward(h, context, skips);
        // 7. Output.
        return _convOut.Forward(_normOut.Forward(h, silu: true), frames, sc);
    }

    /// <summary>Throws unless the input's shapes fit together and the model; returns the number of videos.</summary>
    private int CheckInput(MtdInput x)
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
        return videos;
    }
}
