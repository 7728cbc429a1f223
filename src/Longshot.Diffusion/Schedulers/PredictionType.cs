namespace Longshot.Diffusion.Schedulers;

/// <summary>What a UNet learns to predict (a scheduler config's "prediction_type": "v_prediction" or
/// "epsilon").</summary>
public enum PredictionType
{
    /// <summary>The velocity v: no amplification of small errors at high noise.</summary>
    VPrediction,

    /// <summary>The noise (NUWA-XL's Eq. 5).</summary>
    Epsilon,
}
