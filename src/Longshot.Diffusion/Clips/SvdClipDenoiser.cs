using Longshot.Diffusion.Layers;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Svd;
using Longshot.Tensors;

namespace Longshot.Diffusion.Clips;

/// <summary>
/// One clip of a Stable Video Diffusion video (Video-Infinity over SVD): the clip's frames of the whole video's
/// initial latents, the image's conditioning beside every frame, each guidance half as its own model call through the
/// clip's exchange, guidance rising over the whole video's frames, the Euler steps (no carried state, no noise).
/// </summary>
internal sealed class SvdClipDenoiser : IClipDenoiser
{
    private readonly SvdUnet _unet;
    private readonly SvdSettings _settings;
    private readonly SvdClipConditions _conditions;
    private readonly EulerDiscreteScheduler _scheduler;
    private readonly TemporalScope _scope;
    private readonly Tensor _guidance;
    /// <summary>The paired contexts made so far, by (half, pixel sequences): the same at every step.</summary>
    private readonly Dictionary<(int Half, int Sequences), Tensor> _paired = new();

    public SvdClipDenoiser(SvdUnet unet, EulerDiscreteConfig schedulerConfig, SvdSettings settings,
        SvdClipConditions conditions, Tensor initialLatents, ClipLayout layout, int clip, ClipExchange exchange)
    {
        _unet = unet;
        _settings = settings;
        _conditions = conditions;
        _scheduler = new EulerDiscreteScheduler(schedulerConfig);
        _scheduler.SetTimesteps(settings.Steps);
        Latents = initialLatents * _scheduler.InitNoiseSigma;
        _scope = new TemporalScope(exchange.Settings.Window, exchange);
        _guidance = SvdPipeline.FrameGuidance(settings, layout.Frames, layout.Start(clip), layout.Length(clip));
    }

    /// <summary>[L, C, h, w]: the clip's latents (frames first, as SVD keeps them).</summary>
    public Tensor Latents { get; private set; }

    public int Steps => _settings.Steps;

    public IReadOnlyDictionary<string, Tensor> SchedulerState { get; } = new Dictionary<string, Tensor>();

    public ulong RngCounter => 0;

    public void Step(int k)
    {
        var sample = Latents.Unsqueeze(0);                                               // [1, L, C, h, w]
        int t = _scheduler.TrainingTimestep(k);
        Tensor Call(int half)
        {
            var image = _conditions.ImageLatents.Narrow(0, half, 1);
            var beside = image.Unsqueeze(1).Expand(1, sample.Shape[1], image.Shape[1], image.Shape[2], image.Shape[3]);
            var input = Ops.Concat(new[] { _scheduler.ScaleModelInput(sample, k), beside }, 2);
            return _unet.Forward(input, _scheduler.Timesteps[k], _conditions.Context.Narrow(0, half, 1),
                _conditions.AddedTimeIds.Narrow(0, half, 1), _scope, t,
                _settings.Guided ? s => PairedContext(half, s) : null);
        }
        Tensor output;
        if (_settings.Guided)
        {
            var uncond = Call(0);
            output = uncond + _guidance * (Call(1) - uncond);
        }
        else output = Call(0);
        Latents = _scheduler.Step(output, k, sample).Squeeze(0);
    }

    /// <summary>
    /// The temporal blocks' context of guidance half <paramref name="half"/>'s S pixel sequences as diffusers' batch of
    /// both halves gives it (row h * S + r of that batch takes half (h * S + r) mod 2's context), so that one clip over
    /// the whole video is the published pipeline.
    /// </summary>
    private Tensor PairedContext(int half, int s)
    {
        if (_paired.TryGetValue((half, s), out var made)) return made;
        var rows = Enumerable.Range(0, s).Select(r => _conditions.Context.Narrow(0, (half * s + r) % 2, 1)).ToList();
        return _paired[(half, s)] = Ops.Concat(rows, 0);
    }

    public void Restore(Tensor latents, IReadOnlyDictionary<string, Tensor> scheduler, ulong rngCounter) =>
        Latents = latents;
}

/// <summary>The image's conditioning every clip shares (<see cref="SvdPipeline.Condition"/>): computed once per
/// process.</summary>
internal sealed record SvdClipConditions(Tensor Context, Tensor ImageLatents, Tensor AddedTimeIds);
