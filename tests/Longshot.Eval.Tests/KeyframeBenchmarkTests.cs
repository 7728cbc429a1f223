using Longshot.Diffusion;
using Longshot.Eval.Benchmark;
using Longshot.Eval.Features;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;
using Xunit;

namespace Longshot.Eval.Tests;

/// <summary>`eval keyframes`: the shipped global model's keyframes of test-split stories, scored as stills.</summary>
public class KeyframeBenchmarkTests
{
    [Fact]
    public void TheShippedGlobalModelsKeyframesShowTheirPlacesAndTimes()
    {
        var dir = Directory.CreateTempSubdirectory("longshot-keyframes-").FullName;
        try
        {
            // Episode 2 of 3 is the test split.
            DatasetBuilder.GenerateToonworld(dir, new ToonworldSettings { Frames = 240, Seed = 31 }, 3);
            var o = new KeyframeOptions
            {
                Data = dir, Global = ShippedModels.Global(), Vae = ShippedModels.Vae(),
                Extractor = ShippedExtractor.Folder(), ExtractorSha256 = ShippedExtractor.Sha256, Frames = 240,
                Windows = 1, Sampler = ShippedModels.Sampler with { GlobalSteps = 8 },
            };
            var s = KeyframeBenchmark.Run(o);
            Assert.Equal(16, s.Frames);                          // from 121 frames on, 16 keyframes a story
            Assert.True(double.IsFinite(s.AvgFid) && s.AvgFid > 0, $"Avg-FID {s.AvgFid}");
            // A model that ignored its prompts would hit the place 1 time in 6 and the time of day 1 in 4.
            Assert.True(s.StoryByAttribute!["place"] >= 0.75, $"place {s.StoryByAttribute["place"]:P0}");
            Assert.True(s.StoryByAttribute["time"] >= 0.75, $"time {s.StoryByAttribute["time"]:P0}");
            var wrong = Assert.ThrowsAny<Tensors.LongshotException>(() =>
                KeyframeBenchmark.Run(o with { Frames = 241 }));
            Assert.Contains("no test episode has 241 frames", wrong.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
