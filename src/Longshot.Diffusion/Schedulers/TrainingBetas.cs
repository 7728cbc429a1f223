namespace Longshot.Diffusion.Schedulers;

/// <summary>
/// The training noise schedule of a diffusers scheduler config, in float32 as diffusers keeps it: betas
/// (torch.linspace of beta_start..beta_end, or of their square roots squared for "scaled_linear", or the config's
/// trained_betas) and their cumulative product of (1 - beta).
/// </summary>
public static class TrainingBetas
{
    /// <summary>alpha_bar per training timestep.</summary>
    public static float[] AlphasCumprod(int steps, float betaStart, float betaEnd, string schedule,
        float[]? trained)
    {
        var alphaBar = new float[steps];
        float product = 1f;
        for (int i = 0; i < steps; i++)
        {
            float beta = trained?[i] ?? (schedule == "linear"
                ? (float)(betaStart + (betaEnd - (double)betaStart) * i / (steps - 1))
                : Square((float)(Math.Sqrt(betaStart)
                    + (Math.Sqrt(betaEnd) - Math.Sqrt(betaStart)) * i / (steps - 1))));
            product *= 1f - beta;
            alphaBar[i] = product;
        }
        return alphaBar;
    }

    /// <summary>Checks the schedule keys; a message naming the key, or null.</summary>
    public static string? Problem(int steps, float betaStart, float betaEnd, string schedule, float[]? trained)
    {
        if (steps < 2 || steps > 100_000) return "num_train_timesteps must be between 2 and 100000.";
        if (trained != null) return trained.Length == steps ? null : "trained_betas needs num_train_timesteps values.";
        if (schedule is not ("linear" or "scaled_linear"))
            return $"beta_schedule '{schedule}' is not linear or scaled_linear.";
        return betaStart > 0 && betaStart <= betaEnd && betaEnd < 1 ? null
            : "need 0 < beta_start <= beta_end < 1.";
    }

    private static float Square(float v) => v * v;
}
