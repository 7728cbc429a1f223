using Longshot.Diffusion.Schedulers;
using Longshot.Tensors;

namespace Longshot.Diffusion.Training;

/// <summary>Which model a diffusion training run makes.</summary>
public enum TrainingRole
{
    /// <summary>The global model (level 1: keyframes over the whole span, nothing given).</summary>
    Global,

    /// <summary>The local model shared by levels 2..depth (first and last frames given; the frame spacing tells the
    /// levels apart).</summary>
    Local,

    /// <summary>An image-to-video model with an absolute frame embedding, started from another model (ExVideo's
    /// base).</summary>
    Base,

    /// <summary>ExVideo post-tuning of a base model to more frames.</summary>
    Extend,
}

/// <summary>Which frames the base and extend roles are given.</summary>
public enum GivenFrames
{
    /// <summary>Image to video: consecutive frames, the first given.</summary>
    First,

    /// <summary>A DoD local model at the finest level: consecutive frames, first and last given.</summary>
    Ends,

    /// <summary>A DoD global model: L keyframes, nothing given.</summary>
    None,
}

/// <summary>How the frames of the global and local roles' training clips are spaced.</summary>
public enum FrameSpacing
{
    /// <summary>Units as <see cref="Pipelines.DodSchedule"/> plans them for request lengths drawn log-uniformly up to
    /// the episode's: what generation uses.</summary>
    Requests,

    /// <summary>The fixed strides (L-1)^(m-k) of one full hierarchy per episode, as the first models were
    /// trained.</summary>
    Hierarchy,
}

/// <summary>A stage of VAE training.</summary>
public enum VaeStage
{
    /// <summary>Stage 1: the image KL-VAE, frames independently.</summary>
    Image,

    /// <summary>Stage 2: the T-KLVAE on clips, with temporal layers.</summary>
    Video,

    /// <summary>The decoder of a trained VAE fine-tuned on clips, its encoder (and latent space) frozen.</summary>
    Decoder,
}

/// <summary>The text names of the training kinds, as checkpoints record them and the command line takes them
/// ("global", "ends", "requests", "v_prediction", "decoder").</summary>
public static class TrainingNames
{
    /// <summary>The name of a kind: lower case, v prediction as the scheduler config writes it.</summary>
    public static string Name<T>(this T value) where T : struct, Enum =>
        value is PredictionType.VPrediction ? "v_prediction" : value.ToString().ToLowerInvariant();

    /// <summary>Every name of <typeparamref name="T"/>, in declaration order.</summary>
    public static string[] Names<T>() where T : struct, Enum => Enum.GetValues<T>().Select(Name).ToArray();

    /// <summary>The kind of a name; a <see cref="SettingException"/> for <paramref name="setting"/> listing the names
    /// otherwise.</summary>
    public static T Parse<T>(string name, string setting) where T : struct, Enum =>
        Enum.GetValues<T>().Cast<T?>().FirstOrDefault(v => v!.Value.Name() == name)
        ?? throw new SettingException(setting, $"must be {string.Join(", ", Names<T>())}, got '{name}'.");
}
