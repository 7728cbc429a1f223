using System.Text.Json;
using Longshot.Diffusion.Schedulers;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// The text-to-video schedulers against diffusers v0.25 (tools/make_t2v_scheduler_golden.py): ModelScope's DDIM
/// config and DPM-Solver++ / SDE-DPM-Solver++ built from it (Karras sigmas, v-prediction, every spacing), each walked
/// through a whole schedule on random model outputs, with the stochastic solver's noise replayed.
/// </summary>
public class DiffusersSchedulerTests
{
    private static string Golden(string name) =>
        Path.Combine(AppContext.BaseDirectory, "Golden", "t2v", "schedulers", name);

    [Theory]
    [InlineData("ddim_8")]
    [InlineData("ddim_25")]
    [InlineData("ddim_trailing_10")]
    [InlineData("dpm_8")]
    [InlineData("dpm_25")]
    [InlineData("dpm_karras_12")]
    [InlineData("sde_karras_8")]
    [InlineData("sde_20")]
    [InlineData("dpm_v_leading_10")]
    public void WalksTheScheduleAsDiffusers(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Golden(name + ".json")));
        var record = doc.RootElement;
        var config = StrictJson.Parse<DiffusersSchedulerConfig>(record.GetProperty("config").GetRawText(), name,
            "scheduler config");
        var scheduler = StepSchedulers.Create(config);
        int steps = record.GetProperty("steps").GetInt32();
        scheduler.SetTimesteps(steps);
        Assert.Equal(record.GetProperty("timesteps").EnumerateArray().Select(t => t.GetInt32()), scheduler.Timesteps);
        if (record.TryGetProperty("sigmas", out var sigmas))
        {
            var expected = sigmas.EnumerateArray().Select(s => s.GetSingle()).ToArray();
            var actual = ((DiffusersDpmSolverScheduler)scheduler).Sigmas;
            Assert.Equal(expected.Length, actual.Count);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * Math.Max(1, expected[i]),
                    $"sigma {i}: {actual[i]} vs {expected[i]}");
        }
        var io = SafeTensors.Load(Golden(name + ".safetensors"));
        var sample = io["sample_0"];
        for (int i = 0; i < steps; i++)
        {
            int step = i;
            sample = scheduler.Step(io[$"model_output_{i}"], i, sample,
                io.ContainsKey($"noise_{i}") ? () => io[$"noise_{step}"] : null);
            SvdUnetParityTests.AssertClose(io[$"sample_{i + 1}"], sample, 1e-5);
        }
    }

    [Fact]
    public void UnsupportedSettingsAreNamed()
    {
        var e = Assert.Throws<LongshotException>(() => StepSchedulers.Create(new DiffusersSchedulerConfig
        {
            ClassName = DiffusersSchedulerConfig.DpmSolver, AlgorithmType = "dpmsolver",
        }));
        Assert.Contains("algorithm_type", e.Message);
        e = Assert.Throws<LongshotException>(() => StepSchedulers.Create(new DiffusersSchedulerConfig
        {
            ClassName = "PNDMScheduler",
        }));
        Assert.Contains("PNDMScheduler", e.Message);
    }
}
