using Longshot.Diffusion.Training;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class LongVideoSamplingTests
{
    [Fact]
    public void StridesAndCoverageFollowThePaper()
    {
        Assert.Equal(225, LongVideoSampling.Stride(1, 3, 16));
        Assert.Equal(15, LongVideoSampling.Stride(2, 3, 16));
        Assert.Equal(1, LongVideoSampling.Stride(3, 3, 16));
        Assert.Equal(3376, LongVideoSampling.Coverage(3, 16));
        Assert.Equal(226, LongVideoSampling.Coverage(2, 16));
        Assert.Equal(16, LongVideoSampling.Coverage(1, 16));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ClipsHitTheTrueFrameIndicesAndMaskTheEnds(int level)
    {
        var rng = new Rng(4);
        var starts = new HashSet<int>();
        for (int k = 0; k < 200; k++)
        {
            var clip = LongVideoSampling.Sample(level, 3, 16, 4000, rng);
            int stride = LongVideoSampling.Stride(level, 3, 16);
            Assert.Equal(16, clip.Frames.Length);
            for (int i = 1; i < 16; i++) Assert.Equal(stride, clip.Frames[i] - clip.Frames[i - 1]);
            Assert.InRange(clip.Frames[0], 0, 4000 - 1 - 15 * stride);
            Assert.True(clip.Frames[^1] < 4000);
            if (level == 1) Assert.All(clip.Given, g => Assert.False(g));
            else
            {
                Assert.True(clip.Given[0] && clip.Given[15]);
                Assert.Equal(2, clip.Given.Count(g => g));
            }
            starts.Add(clip.Frames[0]);
        }
        Assert.True(starts.Count > 20, "offsets are random");
    }

    [Fact]
    public void UnconditionedClipsAtFinerStridesGiveNothing()
    {
        var rng = new Rng(4);
        for (int level = 1; level <= 3; level++)
        {
            var clip = LongVideoSampling.Sample(level, 3, 16, 3376, rng, conditioned: false);
            Assert.Equal(LongVideoSampling.Stride(level, 3, 16), clip.Frames[1] - clip.Frames[0]);
            Assert.DoesNotContain(true, clip.Given);
        }
        Assert.Equal(new[] { true, false }, LongVideoSampling.Sample(3, 3, 16, 3376, rng).Given.Distinct().ToArray());
    }

    [Fact]
    public void TheGlobalLevelOfA3376FrameEpisodeSpansItExactly()
    {
        var clip = LongVideoSampling.Sample(1, 3, 16, 3376, new Rng(1));
        Assert.Equal(0, clip.Frames[0]);
        Assert.Equal(3375, clip.Frames[^1]);
        Assert.Contains("3376",
            Assert.Throws<LongshotException>(() => LongVideoSampling.Sample(1, 3, 16, 3000, new Rng(1))).Message);
    }
}
