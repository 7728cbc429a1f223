using Longshot.Tensors;

namespace Longshot.Diffusion.Svd;

/// <summary>
/// What one Stable Video Diffusion run is asked for, with diffusers' StableVideoDiffusionPipeline defaults: 576x1024,
/// the UNet's frame count, 25 steps, guidance rising from 1 to 3 over the frames, fps 7, motion bucket 127, noise
/// augmentation 0.02, and every frame decoded in one chunk.
/// </summary>
public sealed record SvdSettings
{
    /// <summary>Frames to generate (null: the UNet config's num_frames).</summary>
    public int? Frames { get; init; }
    public int Height { get; init; } = 576;
    public int Width { get; init; } = 1024;
    public int Steps { get; init; } = 25;
    /// <summary>The video's frame rate; the model is told fps - 1, as published.</summary>
    public int Fps { get; init; } = 7;
    public int MotionBucketId { get; init; } = 127;
    public float NoiseAugStrength { get; init; } = 0.02f;
    public float MinGuidance { get; init; } = 1f;
    public float MaxGuidance { get; init; } = 3f;
    /// <summary>Frames decoded together (null: all).</summary>
    public int? DecodeChunkSize { get; init; }
    public ulong Seed { get; init; }

    /// <summary>Largest side Longshot accepts (the published model was trained at 576x1024).</summary>
    public const int MaxSide = 4096;

    /// <summary>Checks the settings against a model; a <see cref="SettingException"/> names the setting.</summary>
    public void Validate(int downFactor)
    {
        if (Frames is < 1 or > 1024) throw new SettingException("Frames", "frames must be between 1 and 1024.");
        foreach (var (name, side) in new[] { ("Height", Height), ("Width", Width) })
            if (side < downFactor || side > MaxSide || side % downFactor != 0)
                throw new SettingException("Size", $"{name.ToLowerInvariant()} {side} must be a multiple of " +
                    $"{downFactor} between {downFactor} and {MaxSide}.");
        if (Steps < 1 || Steps > 1000) throw new SettingException("Steps", "steps must be between 1 and 1000.");
        if (Fps < 1 || Fps > 240) throw new SettingException("Fps", "fps must be between 1 and 240.");
        if (MotionBucketId < 0 || MotionBucketId > 1023)
            throw new SettingException("MotionBucket", "the motion bucket id must be between 0 and 1023.");
        if (!(NoiseAugStrength >= 0 && NoiseAugStrength <= 10))
            throw new SettingException("NoiseAug", "noise augmentation must be between 0 and 10.");
        if (!(MinGuidance >= 0 && MinGuidance <= 50) || !(MaxGuidance >= 0 && MaxGuidance <= 50))
            throw new SettingException("MinGuidance", "guidance scales must be between 0 and 50.");
        if (DecodeChunkSize is < 1) throw new SettingException("DecodeChunkSize", "the decode chunk must be >= 1.");
    }

    /// <summary>Classifier-free guidance runs when the strongest guidance exceeds 1 (as diffusers decides once the
    /// guidance tensor is built).</summary>
    public bool Guided => MaxGuidance > 1f;
}
