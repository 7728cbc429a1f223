namespace Longshot.Tensors.Optim;

/// <summary>Linear warm-up from 0 to the base rate, then cosine decay to a floor.</summary>
public sealed record WarmupCosine(float BaseLr, int WarmupSteps, int TotalSteps, float MinLr = 0f)
{
    /// <summary>The learning rate for a 0-based step.</summary>
    public float At(long step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return BaseLr * (step + 1) / WarmupSteps;
        if (step >= TotalSteps) return MinLr;
        double t = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return (float)(MinLr + 0.5 * (BaseLr - MinLr) * (1 + Math.Cos(Math.PI * t)));
    }
}
