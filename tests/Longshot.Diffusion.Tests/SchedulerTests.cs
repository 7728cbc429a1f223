using Longshot.Diffusion.Schedulers;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class SchedulerTests
{
    private static readonly SchedulerConfig Linear = new();

    [Fact]
    public void BetaSchedulesFollowTheirClosedForms()
    {
        var lin = new NoiseSchedule(Linear);
        Assert.Equal(1e-4, lin.Betas[0], 9);
        Assert.Equal(0.02, lin.Betas[^1], 9);
        Assert.Equal((1 - lin.Betas[0]) * (1 - lin.Betas[1]), lin.AlphasCumprod[1], 12);
        var cos = new NoiseSchedule(Linear with { BetaSchedule = "squaredcos_cap_v2" });
        double f(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
        Assert.Equal(f(500.0 / 1000) / f(0), cos.AlphasCumprod[499], 6);
        var sd = new NoiseSchedule(Linear with { BetaSchedule = "scaled_linear", BetaStart = 0.00085f,
            BetaEnd = 0.012f });
        Assert.Equal(0.00085, sd.Betas[0], 6);
        Assert.Equal(0.012, sd.Betas[^1], 6);
        Assert.ThrowsAny<LongshotException>(() => new NoiseSchedule(Linear with { BetaSchedule = "exotic" }));
    }

    [Fact]
    public void AddNoiseUsesOneTimestepPerBatchItem()
    {
        var s = new NoiseSchedule(Linear);
        var x0 = Tensor.Ones(2, 3); var eps = Tensor.Full(2f, 2, 3);
        var xt = s.AddNoise(x0, eps, new[] { 0, 999 }).ToArray();
        Assert.Equal(Math.Sqrt(s.AlphasCumprod[0]) + 2 * Math.Sqrt(1 - s.AlphasCumprod[0]), xt[0], 5);
        Assert.Equal(Math.Sqrt(s.AlphasCumprod[999]) + 2 * Math.Sqrt(1 - s.AlphasCumprod[999]), xt[5], 5);
    }

    public static IEnumerable<object[]> Samplers() => new[]
    {
        new object[] { "ddpm", 1000 }, new object[] { "ddpm", 50 }, new object[] { "ddim", 50 },
            new object[] { "ddim-eta1", 50 },
        new object[] { "dpm++", 20 }, new object[] { "dpm++", 8 },
    };

    /// <summary>
    /// With a model that predicts the true noise of x_t for a known x0, every sampler must land on x0
    /// (DDIM with eta 0 then inverts its own noising exactly).
    /// </summary>
    [Theory]
    [MemberData(nameof(Samplers))]
    public void AnOracleNoisePredictionLeadsBackToTheData(string kind, int steps)
    {
        var sch = Make(kind, Linear);
        sch.SetTimesteps(steps);
        Assert.Equal(steps, sch.Timesteps.Length);
        Assert.Equal(999, sch.Timesteps[0]);
        Assert.Equal(0, sch.Timesteps[^1]);
        var rng = new Rng(3);
        var x0 = Tensor.Rand(rng, -1, 1, 2, 4, 5);
        var x = Tensor.Randn(rng, 2, 4, 5);
        foreach (int t in sch.Timesteps)
        {
            double ab = sch.Schedule.AlphaBar(t);
            var eps = (x - x0 * (float)Math.Sqrt(ab)) * (float)(1 / Math.Sqrt(1 - ab));
            x = sch.Step(eps, t, x, rng);
        }
        var a = x.ToArray(); var b = x0.ToArray();
        for (int i = 0; i < a.Length; i++) Assert.True(MathF.Abs(a[i] - b[i]) < 2e-3f,
            $"{kind}/{steps}: [{i}] {a[i]} vs {b[i]}");
    }

    private static Scheduler Make(string kind, SchedulerConfig cfg) => kind == "ddim-eta1"
        ? Scheduler.Create("ddim", cfg, new SchedulerOptions(Eta: 1f))
        : Scheduler.Create(kind, cfg);

    [Fact]
    public void TheFactoryMakesEveryNamedSchedulerAndRefusesOthers()
    {
        var cfg = new SchedulerConfig();
        Assert.IsType<DpmSolverMultistepScheduler>(Scheduler.Create(Scheduler.Names[0], cfg));
        Assert.IsType<DdpmScheduler>(Scheduler.Create("ddpm", cfg));
        Assert.Equal(0.5f, Assert.IsType<DdimScheduler>(Scheduler.Create("ddim", cfg, new SchedulerOptions(0.5f))).Eta);
        Assert.Contains("ddim", Assert.ThrowsAny<LongshotException>(() => Scheduler.Create("euler", cfg)).Message);
        Assert.Contains("ddim only", Assert.ThrowsAny<LongshotException>(
            () => Scheduler.Create("dpm++", cfg, new SchedulerOptions(0.5f))).Message);
        Assert.Contains("eta", Assert.ThrowsAny<LongshotException>(
            () => Scheduler.Create("ddim", cfg, new SchedulerOptions(float.NaN))).Message);
    }

    /// <summary>The same with v prediction: a model that outputs the true velocity of x_t lands on x0.</summary>
    [Theory]
    [MemberData(nameof(Samplers))]
    public void AnOracleVelocityPredictionLeadsBackToTheData(string kind, int steps)
    {
        var sch = Make(kind, Linear with { PredictionType = "v_prediction" });
        sch.SetTimesteps(steps);
        var rng = new Rng(4);
        var x0 = Tensor.Rand(rng, -1, 1, 2, 4, 5);
        var x = Tensor.Randn(rng, 2, 4, 5);
        foreach (int t in sch.Timesteps)
        {
            double ab = sch.Schedule.AlphaBar(t);
            var eps = (x - x0 * (float)Math.Sqrt(ab)) * (float)(1 / Math.Sqrt(1 - ab));
            var v = eps * (float)Math.Sqrt(ab) - x0 * (float)Math.Sqrt(1 - ab);
            x = sch.Step(v, t, x, rng);
        }
        var a = x.ToArray(); var b = x0.ToArray();
        for (int i = 0; i < a.Length; i++) Assert.True(MathF.Abs(a[i] - b[i]) < 2e-3f,
            $"{kind}/{steps}: [{i}] {a[i]} vs {b[i]}");
    }

    /// <summary>The training target is the velocity: converting it back gives x0 and the noise exactly.</summary>
    [Fact]
    public void TheVelocityTargetConvertsBackToDataAndNoise()
    {
        var sched = new NoiseSchedule(Linear with { PredictionType = "v_prediction" });
        var rng = new Rng(5);
        var x0 = Tensor.Randn(rng, 3, 2, 2); var noise = Tensor.Randn(rng, 3, 2, 2);
        int[] ts = { 0, 500, 999 };
        var xt = sched.AddNoise(x0, noise, ts);
        var v = sched.TrainingTarget(x0, noise, ts);
        for (int i = 0; i < 3; i++)
        {
            var x0Hat = sched.PredictX0(xt.Narrow(0, i, 1), v.Narrow(0, i, 1), ts[i]).ToArray();
            var epsHat = sched.PredictEpsilon(xt.Narrow(0, i, 1), v.Narrow(0, i, 1), ts[i]).ToArray();
            var x0i = x0.Narrow(0, i, 1).ToArray(); var ni = noise.Narrow(0, i, 1).ToArray();
            for (int j = 0; j < x0i.Length; j++)
            {
                Assert.True(MathF.Abs(x0Hat[j] - x0i[j]) < 1e-4f, $"t {ts[i]}: x0 {x0Hat[j]} vs {x0i[j]}");
                Assert.True(MathF.Abs(epsHat[j] - ni[j]) < 1e-3f, $"t {ts[i]}: eps {epsHat[j]} vs {ni[j]}");
            }
        }
        Assert.Same(noise, new NoiseSchedule(Linear).TrainingTarget(x0, noise, ts));
        Assert.Contains("not supported",
            Assert.ThrowsAny<LongshotException>(() => new NoiseSchedule(Linear with { PredictionType = "sample" }))
            .Message);
    }

    [Fact]
    public void DdpmStepMatchesTheClosedFormPosterior()
    {
        var ddpm = new DdpmScheduler(Linear);
        ddpm.SetTimesteps(1000);
        var s = ddpm.Schedule;
        int t = 500;
        var xt = Tensor.Full(0.3f, 1, 1); var eps = Tensor.Full(-0.7f, 1, 1);
        // Eq. 16 (with the square root on the noise term): mean = (x_t - beta_t / sqrt(1 - abar_t) eps) /
        // sqrt(alpha_t).
        double beta = s.Betas[t], alpha = 1 - beta, ab = s.AlphasCumprod[t];
        double mean = (0.3 - beta / Math.Sqrt(1 - ab) * -0.7) / Math.Sqrt(alpha);
        double variance = (1 - s.AlphasCumprod[t - 1]) / (1 - ab) * beta;
        Assert.Equal(variance, ddpm.PosteriorVariance(t, t - 1), 9);
        // Average over many noise draws to check the mean; the spread checks the variance.
        var rng = new Rng(5);
        var draws = Enumerable.Range(0, 4000).Select(_ => (double)ddpm.Step(eps, t, xt, rng).Item()).ToList();
        Assert.Equal(mean, draws.Average(), 2);
        Assert.Equal(Math.Sqrt(variance), Math.Sqrt(draws.Average(d => (d - draws.Average()) * (d - draws.Average()))),
            2);
    }

    [Fact]
    public void ConfigRoundTripsThroughJson()
    {
        var dir = Directory.CreateTempSubdirectory("longshot-sched-").FullName;
        try
        {
            var c = Linear with { BetaSchedule = "squaredcos_cap_v2", NumTrainTimesteps = 500 };
            c.Save(Path.Combine(dir, "scheduler_config.json"));
            Assert.Equal(c, SchedulerConfig.Load(Path.Combine(dir, "scheduler_config.json")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
