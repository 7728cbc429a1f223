using Longshot.Tensors;

namespace Longshot.Diffusion.Schedulers;

/// <summary>
/// DPM-Solver++(2M) (Lu et al.), deterministic, on the model's x0 (data) prediction: second order from the
/// second step on, first order at the first and the last step; the last step lands on x0. 20-25 steps are
/// usually enough.
/// </summary>
public sealed class DpmSolverMultistepScheduler(SchedulerConfig config) : Scheduler(config)
{
    private Tensor? _prevX0;
    private double _prevLambda;
    private int _prevT = -1;

    public override void SetTimesteps(int steps)
    {
        base.SetTimesteps(steps);
        _prevX0 = null; _prevT = -1;
    }

    private double Lambda(int t)
    {
        double ab = Schedule.AlphaBar(t);
        return 0.5 * Math.Log(ab) - 0.5 * Math.Log(1 - ab);
    }

    public override Tensor Step(Tensor modelOutput, int t, Tensor sample, Rng? rng = null)
    {
        int prev = Previous(t);
        var x0 = Schedule.PredictX0(sample, modelOutput, t);
        double lamS = Lambda(t);
        Tensor result;
        if (prev < 0) result = x0; // sigma = 0 at the end: the solution is the data prediction
        else
        {
            double abPrev = Schedule.AlphaBar(prev), ab = Schedule.AlphaBar(t);
            double lamT = Lambda(prev), h = lamT - lamS;
            double sigmaRatio = Math.Sqrt(1 - abPrev) / Math.Sqrt(1 - ab), alphaT = Math.Sqrt(abPrev);
            Tensor d = x0;
            if (_prevX0 != null)
            {
                double r = (lamS - _prevLambda) / h;
                d = x0 * (float)(1 + 0.5 / r) - _prevX0 * (float)(0.5 / r);
            }
            result = sample * (float)sigmaRatio - d * (float)(alphaT * (Math.Exp(-h) - 1));
        }
        _prevX0 = x0; _prevLambda = lamS; _prevT = t;
        return result;
    }

    public override Dictionary<string, Tensor> SaveState() => _prevX0 == null ? new()
        : new() { ["prev_x0"] = _prevX0, ["prev_t"] = Tensor.FromArray(new float[] { _prevT }, 1) };

    public override void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        if (!state.TryGetValue("prev_x0", out var x0)) { _prevX0 = null; return; }
        if (!state.TryGetValue("prev_t", out var t))
            throw new LongshotException("DPM-Solver state: prev_x0 without prev_t.");
        _prevT = (int)t.ToArray()[0];
        _prevX0 = x0; _prevLambda = Lambda(_prevT);
    }
}
