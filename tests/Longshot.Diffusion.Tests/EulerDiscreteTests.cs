using Longshot.Diffusion.Schedulers;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>diffusers' EulerDiscreteScheduler against v0.25 (Golden/svd/schedulers.io.safetensors): Stable Video
/// Diffusion's published config (Karras sigmas 700 to 0.002, v-prediction, continuous timesteps, leading spacing)
/// and an epsilon one, at 1, 8 and 25 steps: the sigmas, timesteps, initial noise scale, scaled inputs and every
/// step.</summary>
public class EulerDiscreteTests
{
    private static readonly Lazy<Dictionary<string, Tensor>> Io =
        new(() => SafeTensors.Load(SvdUnetParityTests.Golden("schedulers.io.safetensors")));

    [Theory]
    [InlineData("svd", 1)]
    [InlineData("svd", 8)]
    [InlineData("svd", 25)]
    [InlineData("eps", 1)]
    [InlineData("eps", 8)]
    [InlineData("eps", 25)]
    public void MatchesDiffusers(string name, int steps)
    {
        var io = Io.Value;
        string key = $"{name}.{steps}";
        var scheduler = new EulerDiscreteScheduler(EulerDiscreteConfig.Load(
            SvdUnetParityTests.Golden("scheduler_" + name, "scheduler_config.json")));
        scheduler.SetTimesteps(steps);
        AssertClose(io[key + ".sigmas"].ToArray(), scheduler.Sigmas, 1e-6);
        AssertClose(io[key + ".timesteps"].ToArray(), scheduler.Timesteps, 1e-6);
        AssertClose(io[key + ".init_noise_sigma"].ToArray(), new[] { scheduler.InitNoiseSigma }, 1e-6);
        var sample = io[key + ".sample0"];
        for (int i = 0; i < steps; i++)
        {
            AssertClose(io[$"{key}.scaled{i}"].ToArray(), scheduler.ScaleModelInput(sample, i).ToArray(), 1e-6);
            var next = scheduler.Step(io[$"{key}.output{i}"], i, sample);
            AssertClose(io[$"{key}.sample{i + 1}"].ToArray(), next.ToArray(), 1e-5);
            sample = io[$"{key}.sample{i + 1}"];
        }
    }

    private static void AssertClose(float[] expected, float[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * Math.Max(1, Math.Abs(expected[i])),
                $"[{i}]: {actual[i]} vs diffusers' {expected[i]}");
    }
}
