using Longshot.Diffusion.TextToVideo;
using Longshot.Diffusion.Layers;
using Longshot.Diffusion.Schedulers;
using Longshot.Tensors;

namespace Longshot.Diffusion.Clips;

/// <summary>
/// One clip of a published text-to-video model's video (Video-Infinity): the clip's frames of the whole video's
/// initial latents and of every step's noise (so one clip over the whole video is the ordinary pipeline), its frames'
/// prompts (from the states every clip shares, each prompt encoded once per process), and each guidance half as its
/// own model call through the clip's exchange (one video per call).
/// </summary>
internal sealed class TextToVideoClipDenoiser : IClipDenoiser
{
    private readonly TextToVideoPipeline _pipe;
    private readonly TextToVideoSettings _settings;
    private readonly IStepScheduler _scheduler;
    private readonly Rng _stepNoise;
    private readonly Tensor _context;
    private readonly Tensor? _negative;
    private readonly TemporalScope _scope;
    private readonly float? _fps;
    private readonly int _start;
    private readonly IReadOnlyList<Tensor>? _givenStepNoise;

    /// <param name="encoded">The text-encoder states of the video's prompts and of the negative prompt.</param>
    /// <param name="frameShape">One frame's latents [C, h, w].</param>
    public TextToVideoClipDenoiser(TextToVideoPipeline pipe, TextToVideoSettings settings, TextToVideoNoise? noise,
        IReadOnlyDictionary<string, Tensor> encoded, ClipLayout layout, int clip, ClipExchange exchange,
        int[] frameShape)
    {
        _pipe = pipe;
        _settings = settings;
        _start = layout.Start(clip);
        int len = layout.Length(clip), c = frameShape[0], plane = frameShape[1] * frameShape[2];
        long video = (long)c * settings.Frames * plane;
        Latents = noise != null
            ? TextToVideoPipeline.FramesAsBatch(noise.Latents.Narrow(2, _start, len).Contiguous())
            : InitialLatents(settings.Seed, settings.Frames, _start, len, frameShape);
        _givenStepNoise = noise?.StepNoise;
        // The ordinary pipeline draws each step's noise [F, C, h, w] after the initial latents: frames first, so the
        // clip's part is one window of it.
        _stepNoise = new Rng(settings.Seed, (ulong)((video + 3) / 4))
            .Window((long)_start * c * plane, (long)settings.Frames * c * plane);
        _context = pipe.EncodePrompts(settings, _start, len, encoded);
        _negative = settings.Guided ? encoded[settings.NegativePrompt ?? ""] : null;
        _scheduler = StepSchedulers.Create(pipe.SchedulerConfig);
        _scheduler.SetTimesteps(settings.Steps);
        _scope = new TemporalScope(exchange.Settings.Window, exchange);
        _fps = pipe.Unet.Config.HasFps ? settings.Fps : null;
    }

    public Tensor Latents { get; private set; }

    public int Steps => _settings.Steps;

    public IReadOnlyDictionary<string, Tensor> SchedulerState => _scheduler.SaveState();

    public ulong RngCounter => _stepNoise.Counter;

    public void Step(int k)
    {
        int len = Latents.Shape[0];
        var sample = Latents.Reshape(1, len, Latents.Shape[1], Latents.Shape[2], Latents.Shape[3])
            .Permute(0, 2, 1, 3, 4).Contiguous();
        int t = _scheduler.Timesteps[k];
        var output = _pipe.Unet.Forward(sample, t, _context, _fps, _scope);
        if (_negative != null)
        {
            var uncond = _pipe.Unet.Forward(sample, t, _negative, _fps, _scope);
            output = uncond + (output - uncond) * _settings.GuidanceScale;
        }
        Tensor Noise() => _givenStepNoise is { } given ? given[k].Narrow(0, _start, len).Contiguous()
            : Tensor.Randn(_stepNoise, Latents.Shape);
        Latents = _scheduler.Step(TextToVideoPipeline.FramesAsBatch(output), k, Latents, Noise);
    }

    public void Restore(Tensor latents, IReadOnlyDictionary<string, Tensor> scheduler, ulong rngCounter)
    {
        Latents = latents;
        _scheduler.LoadState(scheduler);
        _stepNoise.Restore(rngCounter);
    }

    /// <summary>Frames [start, start + len) of the ordinary pipeline's initial latents [1, C, F, h, w] drawn from
    /// the seed, as [len, C, h, w]: each channel's part is one window of that draw.</summary>
    private static Tensor InitialLatents(ulong seed, int frames, int start, int len, int[] frameShape)
    {
        int c = frameShape[0], plane = frameShape[1] * frameShape[2];
        long video = (long)c * frames * plane;
        var channels = Enumerable.Range(0, c).Select(ch =>
            Tensor.Randn(new Rng(seed).Window(((long)ch * frames + start) * plane, video), len, frameShape[1],
                frameShape[2])).ToList();
        return Ops.Stack(channels, 1);
    }
}
