using Longshot.Diffusion.Layers;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Unet;
using Longshot.Tensors;

namespace Longshot.Diffusion.Clips;

/// <summary>
/// One clip of a Toonworld model's video (the MTD UNet with its word encoder): the clip's window of the whole
/// video's noise, each frame's prompt from the storyline, guidance against the empty prompt, the request's sampler.
/// </summary>
internal sealed class MtdClipDenoiser : IClipDenoiser
{
    private readonly MtdPipelineParts _parts;
    private readonly SamplerOptions _options;
    private readonly Scheduler _scheduler;
    private readonly Rng _rng;
    private readonly Tensor _prompts, _cond, _mask;
    private readonly Tensor? _empty;
    private readonly int[] _positions;
    private readonly TemporalScope _scope;

    public MtdClipDenoiser(MtdSampler sampler, GenerationRequest r, ClipLayout layout, int clip,
        ClipExchange exchange, int[] frameShape)
    {
        int start = layout.Start(clip), len = layout.Length(clip), frameSize = frameShape.Aggregate(1, (a, b) => a * b);
        var shape = new[] { len }.Concat(frameShape).ToArray();
        _rng = ClipRun.NoiseOf(r.Seed).Window((long)start * frameSize, (long)r.Frames * frameSize);
        Latents = Tensor.Randn(_rng, shape);
        _parts = sampler.Parts;
        _options = r.Sampler;
        _prompts = _parts.EncodePrompts(Enumerable.Range(start, len).Select(r.Story.PromptAt).ToList());
        _empty = _options.GuidanceScale != 1f ? _parts.EncodePrompts(Enumerable.Repeat("", len).ToList()) : null;
        (_cond, _mask) = MtdConditions.Build(Tensor.Zeros(shape), new bool[len]);
        _positions = Enumerable.Range(0, len).ToArray();
        _scheduler = sampler.NewScheduler(_options);
        _scheduler.SetTimesteps(_options.Steps);
        _scope = new TemporalScope(exchange.Settings.Window, exchange);
    }

    public Tensor Latents { get; private set; }

    public int Steps => _options.Steps;

    public IReadOnlyDictionary<string, Tensor> SchedulerState => _scheduler.SaveState();

    public ulong RngCounter => _rng.Counter;

    public void Step(int k)
    {
        int t = _scheduler.Timesteps[k];
        var input = new MtdInput(Latents, new[] { t }, _prompts, _cond, _mask, _positions) { Scope = _scope };
        var eps = _empty != null ? MtdSampler.Guided(_parts.Unet, input, _empty, _options.GuidanceScale)
            : _parts.Unet.Forward(input);
        Latents = _scheduler.Step(eps, t, Latents, _rng);
    }

    public void Restore(Tensor latents, IReadOnlyDictionary<string, Tensor> scheduler, ulong rngCounter)
    {
        Latents = latents;
        _scheduler.LoadState(scheduler);
        _rng.Restore(rngCounter);
    }
}
