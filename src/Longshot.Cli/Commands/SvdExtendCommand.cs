using System.CommandLine;
using Longshot.Diffusion.SvdPostTuning;
using Longshot.Tensors;

namespace Longshot.Cli.Commands;

/// <summary>
/// The options `train extend` takes for a published Stable Video Diffusion folder (`--model`): ExVideo's post-tuning
/// with the authors' defaults, which differ from the Toonworld extension's where both have the option (frames,
/// learning rate, steps).
/// </summary>
internal sealed class SvdExtendCommand
{
    private static readonly SvdExtendOptions D = SvdExtendOptions.Defaults;

    public Option<string?> Model { get; } = CliOptions.FamilyFolder<Diffusion.Svd.SvdPipeline>("--model",
        "a published Stable Video Diffusion " +
        "folder (diffusers layout) to post-tune, ExVideo on SVD; defaults then follow the authors' script: " +
        $"--frames {D.Frames}, --lr {D.LearningRate}, --steps {D.Steps}");
    public Option<string?> Variant { get; } = CliOptions.Text("--variant", "--model: weights variant, e.g. fp16",
        "NAME");
    public Option<string?> Size { get; } = CliOptions.Text("--size", "--model: training size (default: the " +
        "dataset's frames; other sizes are resized to cover it and cropped at the centre)", "WxH");
    public Option<double> ContrastEnhance { get; } = CliOptions.Number("--contrast-enhance", "--model: the target " +
        "is the clean latents times this", D.ContrastEnhance, 0.01, 2);
    public Option<string?> LatentScale { get; } = CliOptions.Text("--latent-scale", "--model: factor of the clips' " +
        "VAE latents (default: the VAE's scaling_factor, which generation uses; the authors' script used 0.13025)",
        "X");
    public Option<int> Fps { get; } = CliOptions.Int("--fps", "--model: the clips' frame rate the model is told",
        D.Fps, 1, 240);
    public Option<double> EmaDecay { get; } = CliOptions.Number("--ema-decay", "--model: decay of the exported EMA " +
        "weights (0: no EMA kept, the last step's weights exported; saves a float32 copy of them)", D.EmaDecay, 0,
        0.999999);
    public Option<bool> NoCheckpointing { get; } = CliOptions.Flag("--no-checkpointing", "--model: keep every " +
        "activation instead of recomputing them in the backward pass (faster, much more memory)");

    /// <summary>The options only a --model run takes.</summary>
    public Option[] Own => new Option[]
        { Model, Variant, Size, ContrastEnhance, LatentScale, Fps, EmaDecay, NoCheckpointing };

    private static float? Scale(string? text) => text == null ? null
        : float.TryParse(text, System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out float x) ? x
            : throw new SettingException("LatentScale", $"expects a number, got '{text}'.");

    /// <summary>Runs the post-tuning; <paramref name="shared"/> are the options both kinds of extension take, and
    /// <paramref name="toonworldOnly"/> those a --model run refuses.</summary>
    public int Run(ParseResult p, SharedExtendOptions shared, IEnumerable<Option> toonworldOnly,
        CancellationToken ct)
    {
        if (toonworldOnly.FirstOrDefault(o => p.GetResult(o) is { Implicit: false }) is { } wrong)
            throw new SettingException(SettingFlags.SettingOf(wrong.Name),
                "extends a Toonworld base model (--base); a published model's post-tuning (--model) does not take it.");
        T Value<T>(Option<T> option, T fallback) => p.GetResult(option) is { Implicit: false } ? p.GetValue(option)!
            : fallback;
        var o = new SvdExtendOptions
        {
            Model = p.GetValue(Model)!, Variant = p.GetValue(Variant), Data = p.GetValue(shared.Data)!,
            Out = p.GetValue(shared.Out)!, Frames = Value(shared.Frames, D.Frames),
            Size = p.GetValue(Size) is { } size ? ImageToVideoOptions.ParseSize(size) : null,
            Steps = Value(shared.Steps, D.Steps), Batch = p.GetValue(shared.Batch),
            LearningRate = (float)Value(shared.LearningRate, D.LearningRate),
            ContrastEnhance = (float)p.GetValue(ContrastEnhance), LatentScale = Scale(p.GetValue(LatentScale)),
            Fps = p.GetValue(Fps),
            EmaDecay = (float)p.GetValue(EmaDecay), ExportRaw = p.GetValue(shared.Raw),
            GradientCheckpointing = !p.GetValue(NoCheckpointing), Bf16 = p.GetValue(shared.Bf16),
            Zero = p.GetValue(shared.Zero), CheckpointEvery = p.GetValue(shared.CheckpointEvery),
            Seed = p.GetValue(shared.Seed),
        };
        bool quiet = p.GetValue(shared.Quiet) || !JobRanks.IsLeader;
        if (!quiet && JobRanks.Current.Size > 1)
            Console.WriteLine($"training on {JobRanks.Current.Size} MPI ranks, {o.Batch} clip(s) each, ZeRO stage " +
                $"{o.Zero}");
        var progress = new SyncProgress<SvdExtendProgress>(r =>
        {
            if (!quiet)
                Console.WriteLine($"step {r.Step,6}/{r.Steps}  loss {r.Loss:F5}  weighted {r.WeightedLoss:F5}  " +
                    $"{r.SecondsPerStep:F1} s/step  eta {r.Eta:hh\\:mm\\:ss}");
        });
        var path = SvdExtendTrainer.Train(o, progress, ct, JobRanks.Current);
        if (JobRanks.IsLeader)
            Console.WriteLine($"saved {Path.GetFullPath(path)} (ExVideo extension of {o.Frames} frames; use it with " +
                $"generate --model {o.Model} --extension {path})");
        return 0;
    }
}

/// <summary>The options both kinds of `train extend` share.</summary>
internal sealed record SharedExtendOptions(Option<string?> Data, Option<string?> Out, Option<int> Frames,
    Option<int> Steps, Option<int> Batch, Option<double> LearningRate, Option<bool> Raw, Option<bool> Bf16,
    Option<int> Zero, Option<int> CheckpointEvery, Option<ulong> Seed, Option<bool> Quiet);
