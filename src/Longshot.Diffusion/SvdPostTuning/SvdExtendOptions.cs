using Longshot.Tensors;

namespace Longshot.Diffusion.SvdPostTuning;

/// <summary>Options of `longshot train extend --model`: ExVideo's post-tuning of a published Stable Video Diffusion
/// folder, with the defaults of the authors' training script (ExVideo_svd_train.py).</summary>
public sealed record SvdExtendOptions
{
    /// <summary>The published SVD folder (diffusers layout) whose UNet is extended.</summary>
    public required string Model { get; init; }
    /// <summary>Its weights variant ("fp16"), or null for the full-precision files (or the only variant).</summary>
    public string? Variant { get; init; }
    /// <summary>The dataset store (`data import`) whose train split the clips come from.</summary>
    public required string Data { get; init; }
    /// <summary>The run folder: its checkpoint and the extension file.</summary>
    public required string Out { get; init; }
    /// <summary>Frames of the extension (its frame tables) and of every training clip.</summary>
    public int Frames { get; init; } = 128;
    /// <summary>Training size (null: the dataset's frames as they are); other sizes are resized to cover it and
    /// cropped at the centre, as the authors' loader does.</summary>
    public (int Width, int Height)? Size { get; init; }
    public int Steps { get; init; } = 500;
    /// <summary>Clips per step on each rank.</summary>
    public int Batch { get; init; } = 1;
    public float LearningRate { get; init; } = 1e-5f;
    /// <summary>The target is the clean latents times this (the authors' 1.01: "avoid generating gray
    /// videos").</summary>
    public float ContrastEnhance { get; init; } = 1.01f;
    /// <summary>The factor the clips' VAE latents are scaled by (null: the VAE config's scaling_factor, 0.18215 for
    /// SVD, which generation divides by). The authors' script scales by 0.13025, the factor of DiffSynth's SDXL-derived
    /// encoder class, while their pipeline decodes with 0.18215: pass 0.13025 to train as they did.</summary>
    public float? LatentScale { get; init; }
    /// <summary>The frame rate the model is told (fps - 1 is the first added time id); the authors' clips are
    /// 30.</summary>
    public int Fps { get; init; } = 30;
    /// <summary>Decay of the exported EMA weights (0: no EMA is kept, and the last step's weights are
    /// exported).</summary>
    public float EmaDecay { get; init; } = 0.999f;
    /// <summary>Export the last step's weights instead of the EMA.</summary>
    public bool ExportRaw { get; init; }
    /// <summary>Recompute each resnet's and transformer's activations in the backward pass (the authors always
    /// do).</summary>
    public bool GradientCheckpointing { get; init; } = true;
    /// <summary>bfloat16 mixed precision (float32 master weights and optimizer state).</summary>
    public bool Bf16 { get; init; }
    /// <summary>ZeRO stage under mpirun (the authors use DeepSpeed's stage 2).</summary>
    public int Zero { get; init; }
    public int CheckpointEvery { get; init; } = 100;
    public ulong Seed { get; init; } = 1;

    /// <summary>Every default in one place (the command line reads it).</summary>
    public static SvdExtendOptions Defaults { get; } = new() { Model = "", Data = "", Out = "" };

    /// <summary>Throws a <see cref="SettingException"/> naming the first option that cannot work.</summary>
    public void Validate()
    {
        if (Frames < 2 || Frames > 1024)
            throw new SettingException(nameof(Frames), $"must be between 2 and 1024, got {Frames}.");
        if (Steps < 0) throw new SettingException(nameof(Steps), $"must be 0 or more, got {Steps}.");
        if (Batch < 1) throw new SettingException(nameof(Batch), $"must be 1 or more, got {Batch}.");
        if (!float.IsFinite(LearningRate) || LearningRate <= 0)
            throw new SettingException("Lr", $"the learning rate must be positive, got {LearningRate}.");
        if (!float.IsFinite(ContrastEnhance) || ContrastEnhance <= 0 || ContrastEnhance > 2)
            throw new SettingException(nameof(ContrastEnhance), $"must be in (0, 2], got {ContrastEnhance}.");
        if (LatentScale is { } scale && !(scale > 0 && scale <= 10))
            throw new SettingException(nameof(LatentScale), $"must be in (0, 10], got {scale}.");
        if (Fps < 1 || Fps > 240) throw new SettingException(nameof(Fps), $"must be between 1 and 240, got {Fps}.");
        if (!(EmaDecay >= 0 && EmaDecay < 1))
            throw new SettingException(nameof(EmaDecay), $"must be in [0, 1), got {EmaDecay}.");
        if (Zero is < 0 or > 2) throw new SettingException(nameof(Zero), $"must be 0, 1 or 2, got {Zero}.");
        if (CheckpointEvery < 1)
            throw new SettingException(nameof(CheckpointEvery), $"must be 1 or more, got {CheckpointEvery}.");
        if (File.Exists(Out)) throw new SettingException(nameof(Out), $"{Out} is a file, not a folder.");
    }
}

/// <summary>One progress report of post-tuning: the step, the batch's mean squared error on the clean latents and
/// the same weighted by noise level (what the gradient follows), seconds per step, and the time left.</summary>
public sealed record SvdExtendProgress(long Step, long Steps, float Loss, float WeightedLoss, double SecondsPerStep,
    TimeSpan Eta);
