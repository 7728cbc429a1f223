using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Training;
using Longshot.Diffusion.Unet;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class MtdTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-mtd-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);
    private string P(string n) => Path.Combine(_dir, n);

    private MtdTrainOptions Setup(string role, string outName, int steps) =>
        TinyTraining.Options(_dir, role, outName, steps);

    [Fact]
    public void LocalTrainingResumesExactlyAndSavesAModelFolder()
    {
        var straight = MtdTrainer.Train(Setup("local", "a", 3));
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            MtdTrainer.Train(Setup("local", "b", 3),
            new Relay<MtdTrainProgress>(p => { if (p.Step == 1) cts.Cancel(); }), cts.Token));
        var resumed = MtdTrainer.Train(Setup("local", "b", 3));
        foreach (var (name, t) in straight.Parameters.Named) Assert.Equal(t.ToArray(),
            resumed.Parameters[name].ToArray());
        var loaded = MtdPipelineParts.Load(P("b"));
        Assert.Equal(straight.Tokenizer.Vocabulary, loaded.Tokenizer.Vocabulary);
        foreach (var (name, t) in resumed.Parameters.Named) Assert.Equal(t.ToArray(),
            loaded.Parameters[name].ToArray());
        Assert.ThrowsAny<LongshotException>(() => MtdTrainer.Train(Setup("global", "b", 4)));
    }

    [Fact]
    public void ARunStartsFromAnotherModelAndKeepsItsPredictionType()
    {
        var eps = MtdTrainer.Train(Setup("global", "eps", 2) with { PredictionType = PredictionType.Epsilon });
        Assert.Equal("epsilon", MtdPipelineParts.Load(P("eps")).Schedule.Config.PredictionType);
        // Zero steps from --init: the weights are the initial model's, now saved as a v-prediction model.
        var tuned = MtdTrainer.Train(Setup("global", "v", 0) with { InitFrom = P("eps") });
        foreach (var (name, t) in eps.Parameters.Named) Assert.Equal(t.ToArray(), tuned.Parameters[name].ToArray());
        Assert.Equal("v_prediction", MtdPipelineParts.Load(P("v")).Schedule.Config.PredictionType);
        // Resuming a run with the other objective would silently mix two; it is refused by name.
        var e = Assert.ThrowsAny<LongshotException>(() => MtdTrainer.Train(Setup("global", "eps", 3)));
        Assert.Contains("epsilon", e.Message);
    }

    [Fact]
    public void ValidationLossIsDeterministicAndPerLevel()
    {
        var model = MtdTrainer.Train(Setup("local", "v", 1));
        double a = MtdTrainer.ValidationLoss(model, P("data"), P("vae"), TrainingRole.Local, 2, 2, 4, clips: 3);
        double b = MtdTrainer.ValidationLoss(model, P("data"), P("vae"), TrainingRole.Local, 2, 2, 4, clips: 3);
        double g = MtdTrainer.ValidationLoss(model, P("data"), P("vae"), TrainingRole.Global, 1, 2, 4, clips: 3);
        Assert.Equal(a, b);
        Assert.True(double.IsFinite(a) && a > 0, $"loss {a}");
        Assert.NotEqual(a, g);
    }

    [Fact]
    public void ConditionsHoldCleanLatentsOnlyOnGivenFrames()
    {
        var x0 = Tensor.Randn(new Rng(1), 4, 2, 3, 3);
        var (cond, mask) = MtdConditions.Build(x0, new[] { true, false, false, true });
        Assert.Equal(x0.Narrow(0, 0, 1).ToArray(), cond.Narrow(0, 0, 1).ToArray());
        Assert.All(cond.Narrow(0, 1, 2).ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(new[] { 4, 1, 3, 3 }, mask.Shape);
        Assert.All(mask.Narrow(0, 3, 1).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(mask.Narrow(0, 1, 1).ToArray(), v => Assert.Equal(0f, v));
    }

}
