using Longshot.Diffusion.ExVideo;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Text;
using Longshot.Diffusion.Training;
using Longshot.Diffusion.Unet;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class ExVideoTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-exvideo-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);
    private string P(string n) => Path.Combine(_dir, n);

    [Fact]
    public void PositionsReflectAsThePublishedCodeMaps25To128()
    {
        var map = Enumerable.Range(0, 128).Select(f => ExVideoPositions.Map(f, 25)).ToArray();
        var expected = new List<int>(Enumerable.Range(0, 25));
        while (expected.Count < 128)
        {
            expected.AddRange(Enumerable.Range(4, 20).Reverse());   // 23 .. 4
            expected.AddRange(Enumerable.Range(5, 20));             // 5 .. 24
        }
        Assert.Equal(expected.Take(128), map);
        Assert.Equal(new[] { 14, 13 }, new[] { ExVideoPositions.Map(16, 16), ExVideoPositions.Map(17, 16) });
        Assert.Equal(4, ExVideoPositions.Map(26, 16));
        Assert.Equal(5, ExVideoPositions.Map(27, 16));
        Assert.ThrowsAny<LongshotException>(() => ExVideoPositions.Map(3, 6));
    }

    /// <summary>A small base model with a frame embedding whose every weight is random (none at zero).</summary>
    private static MtdPipelineParts Base()
    {
        var tok = WordTokenizer.Build(new[] { "a red ball" }, 8);
        var parts = MtdPipelineParts.Create(new MaskUnetConfig { BlockOutChannels = new[] { 32, 32 },
            AttentionLevels = new[] { false, true }, FramePositionEmbedding = true },
            new TextEncoderConfig { VocabSize = tok.VocabularySize, MaxLength = 8, Hidden = 32, Heads = 4, Layers = 1,
                Intermediate = 64 }, tok, new Schedulers.SchedulerConfig(), 3);
        var rng = new Rng(4);
        foreach (var (_, p) in parts.Parameters.Named)
        {
            var noise = Tensor.Randn(rng, p.Shape).ToArray();
            var v = p.Span;
            for (int i = 0; i < v.Length; i++) v[i] += 0.05f * noise[i];
        }
        return parts;
    }

    private static Tensor Run(MtdPipelineParts m, int frames, ulong seed)
    {
        using var _ = Tensor.NoGrad();
        var rng = new Rng(seed);
        var x = Tensor.Randn(rng, frames, 4, 4, 4);
        var given = Enumerable.Range(0, frames).Select(f => f == 0).ToArray();
        var (cond, mask) = MtdConditions.Build(Tensor.Randn(rng, frames, 4, 4, 4), given);
        return m.Unet.Forward(new MtdInput(x, new[] { 500 }, m.EncodePrompts(Enumerable.Repeat("a red ball", frames)
            .ToList()), cond, mask, Enumerable.Range(0, frames).ToArray()));
    }

    [Fact]
    public void AtItsStartTheExtendedModelIsTheBaseModelOnTheBaseLength()
    {
        var b = Base();
        var e = ExVideoExtension.Extend(b, new ExVideoSettings(Frames: 24, BaseLength: 8));
        var want = Run(b, 8, 1).ToArray();
        var got = Run(e, 8, 1).ToArray();
        double worst = want.Zip(got, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(worst < 1e-5, $"max difference {worst}");
        // The table rows past the base length repeat the base embedding of the mapped slots.
        var stack = e.Unet.AttentionStacks.First();
        var table = stack.PositionTable!.Weight;
        Assert.Equal(table.Narrow(0, ExVideoPositions.Map(8, 8), 1).ToArray(), table.Narrow(0, 8, 1).ToArray());
        // 24 frames run; 25 are refused with a message.
        Assert.Equal(24 * 4 * 4 * 4, Run(e, 24, 2).Numel);
        Assert.ThrowsAny<LongshotException>(() => Run(e, 25, 2));
        // The base model itself is untouched by the extension.
        Assert.Equal(want, Run(b, 8, 1).ToArray());
    }

    [Fact]
    public void OnlyTheTemporalBlocksTrainAndTheRestStaysBitIdentical()
    {
        var common = TinyTraining.Options(_dir, "local", "local", 1);
        MtdTrainer.Train(common);
        var baseModel = MtdTrainer.Train(common with { Role = TrainingRole.Base, Out = P("base"), InitFrom = P("local"),
            Steps = 2 });
        Assert.True(baseModel.Unet.Config.FramePositionEmbedding);
        Assert.Equal(4, baseModel.Unet.Config.NumFrames);
        foreach (var (checkpointing, bf16) in new[] { (false, false), (true, false), (true, true) })
        {
            var outDir = P($"ext-{checkpointing}-{bf16}");
            var extended = MtdTrainer.Train(common with { Role = TrainingRole.Extend, Out = outDir,
                InitFrom = P("base"),
                Length = 12, Steps = 3, ExportRaw = true, GradientCheckpointing = checkpointing, Bf16 = bf16,
                Extension = new ExVideoSettings(12, BaseLength: 8) });
            var start = ExVideoExtension.Extend(MtdPipelineParts.Load(P("base")), new ExVideoSettings(12, 8));
            int trained = 0;
            foreach (var (name, t) in extended.Parameters.Named)
            {
                bool same = t.ToArray().SequenceEqual(start.Parameters[name].ToArray());
                if (ExVideoExtension.IsTemporalBlock(name)) trained += same ? 0 : 1;
                else Assert.True(same, $"{name} changed");
            }
            Assert.True(trained > 0, "no temporal-block weight moved");
            var saved = MtdPipelineParts.Load(outDir);
            Assert.Equal(12, saved.Unet.Config.FramePositionTable);
            Assert.Equal(12, saved.Unet.Config.NumFrames);
            // Mixed precision keeps float32 master weights: trained weights are not bfloat16 values.
            if (bf16)
                Assert.Contains(extended.Parameters.Named.Where(x => ExVideoExtension.IsTemporalBlock(x.Name))
                    .SelectMany(x => x.Value.ToArray()), v => (BitConverter.SingleToUInt32Bits(v) & 0xFFFF) != 0);
        }
        // DoD's two roles as base and extended models: keyframes with nothing given, and first and last given.
        foreach (var given in new[] { "none", "ends" })
        {
            var b = MtdTrainer.Train(common with { Role = TrainingRole.Base, Out = P("base-" + given),
                InitFrom = P("local"),
                Steps = 1, Given = TrainingNames.Parse<GivenFrames>(given, "Given") });
            // 12 keyframes spread over a request of 12 to 40 frames, or 12 consecutive frames with both ends given.
            MtdTrainer.Train(common with { Role = TrainingRole.Extend, Out = P("ext-" + given),
                InitFrom = P("base-" + given),
                Length = 12, Steps = 1, Given = TrainingNames.Parse<GivenFrames>(given, "Given"),
                Extension = new ExVideoSettings(12, BaseLength: 8) });
            Assert.True(b.Unet.Config.FramePositionEmbedding);
        }
        var e = Assert.ThrowsAny<LongshotException>(() => MtdTrainer.Train(common with { Role = TrainingRole.Base,
            Out = P("base-none"), InitFrom = P("local"), Steps = 2, Given = GivenFrames.Ends }));
        Assert.Contains("given none", e.Message);
    }
}

[Collection("Serial")]
public class ExtendedSchemeTests
{
    [Fact]
    public void TheExtendedSchemeGivesTheGlobalModelsFirstFrameAndDrawsTheRestInOnePass()
    {
        var tok = WordTokenizer.Build(new[] { "a red ball" }, 8);
        MtdPipelineParts Parts(bool positions, int table = 0, int? trainedFor = null) => MtdPipelineParts.Create(
            new MaskUnetConfig
            {
                BlockOutChannels = new[] { 32, 32 }, AttentionLevels = new[] { false, true },
                FramePositionEmbedding = positions, FramePositionTable = table, NumFrames = trainedFor,
            },
            new TextEncoderConfig { VocabSize = tok.VocabularySize, MaxLength = 8, Hidden = 32, Heads = 4, Layers = 1,
                Intermediate = 64 }, tok, new Schedulers.SchedulerConfig(), 5);
        var global = Parts(false);
        var pipe = new LongVideoPipeline(global, global,
            AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 }, Temporal = true }, 3),
            4);
        var story = Storyline.Parse("0-: a red ball\n", frames: 20);
        var o = new SamplerOptions(Steps: 2, GuidanceScale: 1f);
        var r = new GenerationRequest(story, 20) { Scheme = new Extended(), Seed = 3, Sampler = o };
        Assert.ThrowsAny<LongshotException>(() => pipe.GenerateLatents(r));           // no extended model yet
        pipe.ExtendedModel = Parts(true);
        var latents = pipe.GenerateLatents(r);
        Assert.Equal(20, latents.Count);
        var first = new MtdSampler(global, 4, 4, 4).Sample(new[] { new MtdClip(Enumerable.Range(0, 16).ToArray(),
            Enumerable.Repeat("a red ball", 16).ToArray(), new Tensor?[16], new Rng(3).Derive(1, 0)) }, o)[0];
        Assert.Equal(first.Narrow(0, 0, 1).ToArray(), latents[0].ToArray());
        Assert.NotEqual(latents[0].ToArray(), latents[1].ToArray());
        // An initial image belongs to the extended scheme alone (its own setting), at the VAE's frame size.
        var image = Assert.Throws<SettingException>(() => pipe.GenerateLatents(r with
        {
            Scheme = new Extended(FirstFrame: Tensor.Zeros(3, 32, 32)),
        }));
        Assert.Equal(nameof(Extended.FirstFrame), image.Setting);
        pipe.ExtendedModel = Parts(false, table: 12);
        var e = Assert.ThrowsAny<LongshotException>(() => pipe.GenerateLatents(r));
        Assert.Contains("at most 12 frames", e.Message);
        // ExVideo inside DoD: extended global and local models at L = 12 draw 30 frames in two levels (12 keyframes
        // 2-3 apart, then 11 gaps), and an L past their tables is refused.
        var dod = new LongVideoPipeline(Parts(false, table: 12), Parts(false, table: 12), pipe.Vae, 4);
        var request = r with { Scheme = new DiffusionOverDiffusion(Depth: 2), Length = 12, Frames = 30,
            Story = Storyline.Parse("0-: a red ball\n", frames: 30) };
        Assert.Equal(12, new DodSchedule(30, 12, depth: 2).Levels[0].Single().Positions.Length);
        Assert.Equal(30, dod.GenerateFrames(request).Count());
        e = Assert.ThrowsAny<LongshotException>(() => dod.GenerateLatents(request with { Length = 13 }));
        Assert.Contains("length (L) 13: the global model draws at most 12 frames", e.Message);
        // Models that record the L they were trained for refuse another.
        var recorded = new LongVideoPipeline(Parts(false), Parts(false, trainedFor: 12), pipe.Vae, 4);
        e = Assert.ThrowsAny<LongshotException>(() => recorded.GenerateLatents(request with { Length = 10 }));
        Assert.Contains("the local model was trained for L = 12", e.Message);
        Assert.Equal("Length", Assert.IsType<SettingException>(e).Setting);
    }
}
