using System.Text.Json;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Svd;
using Longshot.Diffusion.SvdPostTuning;
using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>ExVideo's post-tuning of SVD (`train extend --model`) on the tiny published-layout pipeline: the noise
/// levels and motion buckets against DiffSynth-Studio's numbers, the trainable set against DiffSynth's names, the
/// written extension, exact resume, ZeRO over ranks and gradient checkpointing.</summary>
public class SvdPostTuningTests
{
    private static readonly string Pipeline = SvdUnetParityTests.Golden("pipeline_tiny");

    /// <summary>One 24-frame 16 x 16 Toonworld episode (the train split), made once.</summary>
    private static readonly Lazy<string> Data = new(() =>
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory("longshot-svd-extend-data-").FullName, "data");
        DatasetBuilder.GenerateToonworld(dir, new ToonworldSettings { Frames = 24, Width = 16, Height = 16, Seed = 5 },
            1);
        return dir;
    });

    private static SvdExtendOptions Options(string outDir, int steps) => new()
    {
        Model = Pipeline, Data = Data.Value, Out = outDir, Frames = 6, Steps = steps, CheckpointEvery = 1,
        LearningRate = 1e-3f, EmaDecay = 0.5f,
    };

    private static string NewDir() => Directory.CreateTempSubdirectory("longshot-svd-extend-").FullName;

    /// <summary>DiffSynth's ContinuousODEScheduler(1000): sigmas, timesteps, weights, noising and the clean
    /// estimate, as its code printed them.</summary>
    [Fact]
    public void TheNoiseLevelsAreDiffSynthsContinuousOdeSchedule()
    {
        var s = new EdmTrainingSchedule();
        var expected = new (int Level, double Sigma, double Timestep, double Weight)[]
        {
            (0, 700.0001220703125, 1.637770175933838, 1.000001072883606),
            (1, 695.8972778320312, 1.6363005638122559, 1.000001072883606),
            (500, 15.511271476745605, 0.6853917241096497, 1.0020760297775269),
            (998, 0.0020739471074193716, -1.5445754528045654, 482.17340087890625),
            (999, 0.0020000035874545574, -1.5536515712738037, 500.0001220703125),
        };
        foreach (var (level, sigma, timestep, weight) in expected)
        {
            Assert.Equal(sigma, s.Sigmas[level], sigma * 1e-5);
            Assert.Equal(timestep, s.Timestep(level), 2e-6);
            Assert.Equal(weight, s.Weight(level), weight * 1e-5);
        }
        var x0 = Tensor.FromArray(new[] { 1.5409960746765137f, -0.293428897857666f, -2.1787893772125244f,
            0.5684312582015991f, -1.0845223665237427f, -1.3985954523086548f }, 2, 3);
        var n = Tensor.FromArray(new[] { 0.40334683656692505f, 0.8380263447761536f, -0.7192575931549072f,
            -0.40334352850914f, -0.5966353416442871f, 0.18203648924827576f }, 2, 3);
        var output = Tensor.FromArray(new[] { -0.8566746115684509f, 1.1006041765213013f, -1.0711873769760132f,
            0.1227012425661087f, -0.5663174986839294f, 0.3731146454811096f }, 2, 3);
        var noisy = s.Noisy(x0, n, 300);
        AssertNear(new[] { 0.4200972318649292, 0.8347826600074768, -0.7429318428039551, -0.3971320390701294,
            -0.6084054112434387, 0.16680152714252472 }, noisy.ToArray(), 2e-6);
        AssertNear(new[] { 0.8611968159675598, -1.0914522409439087, 1.0630369186401367, -0.12701690196990967,
            0.559661328792572, -0.37127685546875 }, s.Estimate(output, noisy, 300).ToArray(), 2e-5);
    }

    private static void AssertNear(double[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], tolerance);
    }

    /// <summary>The motion score of a clip and its bucket, against DiffSynth's MotionBucketManager on the same
    /// frames (0.1 sin(0.7t + 1.3c + 0.5y + 0.9x + 0.3tx), 5 frames of 3 x 4 x 4).</summary>
    [Fact]
    public void MotionBucketsFollowTheAuthorsThresholds()
    {
        var v = new float[5 * 3 * 4 * 4];
        for (int t = 0, i = 0; t < 5; t++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 4; x++)
                        v[i++] = 0.1f * MathF.Sin(0.7f * t + 1.3f * c + 0.5f * y + 0.9f * x + 0.3f * t * x);
        double score = MotionBuckets.Score(Tensor.FromArray(v, 5, 3, 4, 4));
        Assert.Equal(0.07346149533987045, score, 1e-6);
        Assert.Equal(32, MotionBuckets.Bucket(score));
        Assert.Equal(0, MotionBuckets.Bucket(MotionBuckets.Score(Tensor.Ones(4, 3, 2, 2))));
        Assert.Equal(127, MotionBuckets.Bucket(0.5));
    }

    /// <summary>At full size the weights that train are exactly DiffSynth's TemporalAttentionBlocks of
    /// SVDUNet(add_positional_conv=128), by name and shape, including the key DiffSynth's loader detects an ExVideo
    /// file by.</summary>
    [Fact]
    public void TheTrainableWeightsAreDiffSynthsTemporalAttentionBlocks()
    {
        var shapes = JsonDocument.Parse(File.ReadAllText(SvdUnetParityTests.Golden("exvideo_names.json")))
            .RootElement.GetProperty("diffsynth_shapes");
        var config = new SvdUnetConfig();
        var blocks = DiffSynthSvdNames.BlockNames(config);
        var temporalBlocks = Enumerable.Range(0, blocks.Count)
            .Where(i => blocks[i]?.EndsWith(".temporal_transformer_blocks") == true).Select(i => $"blocks.{i}.")
            .ToList();
        var theirs = shapes.EnumerateObject().Where(p => temporalBlocks.Any(b => p.Name.StartsWith(b)))
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(x => x.GetInt32()).ToArray());
        var layout = new ParameterStore();
        _ = new SvdUnet(config with { ExtensionFrames = 128 }, VarBuilder.ShapesOnly(layout));
        var ours = layout.Named.Select(p => (p.Name, Theirs: DiffSynthSvdNames.TemporalBlockName(p.Name, blocks),
            p.Value.Shape)).Where(p => p.Theirs != null).ToList();
        Assert.Equal(theirs.Count, ours.Count);
        foreach (var (name, diffsynth, shape) in ours)
        {
            Assert.True(theirs.TryGetValue(diffsynth!, out var want), $"{name} -> {diffsynth} is not DiffSynth's");
            Assert.Equal(want, shape);
        }
        Assert.Contains(ours, p => p.Theirs == "blocks.185.positional_embedding.embeddings");
        Assert.Equal(16, temporalBlocks.Count);
    }

    /// <summary>The extended model at its start computes the base model's output on the base's frames.</summary>
    [Fact]
    public void TheExtendedModelStartsAsTheBaseModel()
    {
        var pipe = SvdPipeline.Load(Pipeline);
        var model = SvdExtensionModel.Create(pipe.Unet, 12);
        Assert.True(model.Trainable.Count > 0);
        Assert.All(model.Trainable.Named, p => Assert.True(p.Value.RequiresGrad));
        Assert.DoesNotContain(model.Unet.Parameters.Named, p => p.Value.RequiresGrad
            && !model.Trainable.Contains(p.Name));
        var rng = new Rng(4);
        var sample = Tensor.Randn(rng, 1, 3, 8, 8, 8);
        var context = Tensor.Randn(rng, 1, 1, 24);
        var ids = Tensor.FromArray(new float[] { 6, 127, 0.02f }, 1, 3);
        using var _ = Tensor.NoGrad();
        SvdUnetParityTests.AssertClose(pipe.Unet.Forward(sample, 0.4f, context, ids),
            model.Unet.Forward(sample, 0.4f, context, ids), 1e-5);
    }

    /// <summary>Two steps train only the temporal blocks and write an extension in DiffSynth's layout (float16) that
    /// loads onto the base and generates its frames.</summary>
    [Fact]
    public void TrainingWritesAnExtensionThatGenerates()
    {
        var dir = NewDir();
        var path = SvdExtendTrainer.Train(Options(dir, 2) with { ExportRaw = true });
        using (var file = SafeTensorsFile.Open(path))
        {
            Assert.All(file.Keys, k => Assert.StartsWith("blocks.", k));
            Assert.All(file.Keys, k => Assert.Equal(DType.F16, file.Info(k).DType));
        }
        var config = SvdPipeline.Load(Pipeline).Unet.Config;
        var extension = ExVideoSvdExtension.Open(path, config);
        Assert.Equal(6, extension.Frames);
        // Trained: the frame tables moved away from their start.
        var start = ExVideoSvdExtension.Initial(config, 6);
        var weights = SafeTensors.Load(path);
        var table = start.Keys.First(k => k.EndsWith("positional_embedding.embeddings"));
        Assert.NotEqual(start[table].ToArray(), weights[table].ToArray());
        var pipe = SvdPipeline.Load(Pipeline, extension: path);
        var image = Tensor.Randn(new Rng(1), 3, 16, 16) * 0.5f;
        var frames = pipe.Generate(image, new SvdSettings { Frames = 6, Height = 16, Width = 16, Steps = 2 });
        Assert.Equal(new[] { 6, 3, 16, 16 }, frames.Shape);
        Assert.True(NumericCheckOk(frames));
        // Too small for the positional convolution's reflect padding at the UNet's lowest level: named, not a crash.
        var small = new SvdSettings { Frames = 6, Height = 4, Width = 4, Steps = 1 };
        Assert.Equal("Size", Assert.Throws<SettingException>(() => pipe.Generate(image, small)).Setting);
        Assert.Equal("Size", Assert.Throws<SettingException>(() =>
            SvdExtendTrainer.Train(Options(NewDir(), 1) with { Size = (4, 4) })).Setting);
    }

    private static bool NumericCheckOk(Tensor t) => t.ToArray().All(float.IsFinite);

    /// <summary>A run stopped after its first step and rerun finishes with the bits of an uninterrupted run (weights,
    /// optimizer, EMA and generator all resume).</summary>
    [Fact]
    public void AStoppedRunResumesExactly()
    {
        var whole = NewDir();
        var once = File.ReadAllBytes(SvdExtendTrainer.Train(Options(whole, 3)));
        var split = NewDir();
        SvdExtendTrainer.Train(Options(split, 1));
        var resumed = File.ReadAllBytes(SvdExtendTrainer.Train(Options(split, 3)));
        Assert.Equal(once, resumed);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, SvdExtendTrainer.StateFile)),
            File.ReadAllBytes(Path.Combine(split, SvdExtendTrainer.StateFile)));
        // Another frame count in the same folder is refused by name.
        var e = Assert.Throws<SettingException>(() => SvdExtendTrainer.Train(Options(split, 4) with { Frames = 5 }));
        Assert.Equal("Out", e.Setting);
    }

    /// <summary>Two ranks of one clip each under ZeRO stage 2 train as one process with two clips per step.</summary>
    [Fact]
    public void ZeroStageTwoOverRanksTrainsAsOneProcess()
    {
        var single = NewDir();
        SvdExtendTrainer.Train(Options(single, 2) with { Batch = 2 });
        var shared = NewDir();
        var comms = InProcessCommunicator.CreateGroup(2);
        var threads = comms.Select(c => new Thread(() => SvdExtendTrainer.Train(Options(shared, 2) with { Zero = 2 },
            ranks: c))).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        // The checkpoints' float32 weights (the extension file is float16).
        Dictionary<string, Tensor> Weights(string dir) =>
            SafeTensors.Load(Path.Combine(dir, SvdExtendTrainer.StateFile))
            .Where(kv => kv.Key.StartsWith("model.")).ToDictionary(kv => kv.Key, kv => kv.Value);
        var one = Weights(single);
        var two = Weights(shared);
        var start = SvdExtensionModel.Create(SvdPipeline.Load(Pipeline).Unet, 6).Trainable;
        Assert.Equal(one.Keys.Order(), two.Keys.Order());
        double moved = 0;
        foreach (var key in one.Keys)
        {
            var a = one[key].ToArray();
            var b = two[key].ToArray();
            var s0 = start[key["model.".Length..]].ToArray();
            for (int i = 0; i < a.Length; i++)
            {
                Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5, $"{key}[{i}]: {a[i]} vs {b[i]}");
                moved = Math.Max(moved, Math.Abs(a[i] - s0[i]));
            }
        }
        Assert.True(moved > 1e-3, $"the weights barely moved ({moved})");
    }

    /// <summary>Gradient checkpointing and bfloat16 change how a step is computed, not what it computes (bf16
    /// within its rounding).</summary>
    [Fact]
    public void CheckpointingAndBf16KeepTheGradients()
    {
        Dictionary<string, float[]> Grads(bool checkpointing, bool bf16)
        {
            var o = Options(NewDir(), 1) with { GradientCheckpointing = checkpointing, Bf16 = bf16 };
            var pipe = SvdPipeline.Load(Pipeline);
            var model = SvdExtensionModel.Create(pipe.Unet, o.Frames);
            model.Unet.GradientCheckpointing = checkpointing;
            using var store = DatasetStore.Open(o.Data);
            var sampler = new Training.ClipSampler(store, Splits.Train, o.Frames);
            var (grads, _, _) = SvdExtendTrainer.StepGradients(o, pipe, model, new EdmTrainingSchedule(), sampler,
                (16, 16), new Rng(9));
            return model.Trainable.Named.ToDictionary(p => p.Name, p => grads[p.Value].ToArray());
        }
        var plain = Grads(false, false);
        var checkpointed = Grads(true, false);
        var bf16 = Grads(true, true);
        double scale = plain.Values.SelectMany(v => v).Max(v => Math.Abs(v));
        Assert.True(scale > 0);
        foreach (var (name, g) in plain)
            for (int i = 0; i < g.Length; i++)
            {
                Assert.True(Math.Abs(g[i] - checkpointed[name][i]) <= 1e-5 * scale, $"{name}[{i}] checkpointed");
                Assert.True(Math.Abs(g[i] - bf16[name][i]) <= 5e-2 * scale, $"{name}[{i}] bf16");
            }
    }
}
