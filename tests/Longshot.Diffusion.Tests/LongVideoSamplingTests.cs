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
            Assert.ThrowsAny<LongshotException>(() => LongVideoSampling.Sample(1, 3, 16, 3000, new Rng(1))).Message);
    }

    [Fact]
    public void RequestSpacedUnitsAreUnitsOfSomeRequestsSchedule()
    {
        var rng = new Rng(11);
        var lengths = new HashSet<int>();
        var gaps = new HashSet<int>();
        for (int i = 0; i < 300; i++)
        {
            int level = 1 + i % 3;
            var clip = LongVideoSampling.SampleRequest(level, 16, 3376, rng);
            Assert.Equal(level, clip.Level);
            Assert.InRange(clip.Frames[0], 0, 3375);
            Assert.InRange(clip.Frames[^1], 0, 3375);
            Assert.InRange(clip.Frames.Length, 2, 16);
            var d = clip.Frames.Zip(clip.Frames.Skip(1), (a, b) => b - a).ToList();
            Assert.InRange(d.Max() - d.Min(), 0, 1);      // nearly equal steps
            Assert.Equal(level == 1 ? 0 : 2, clip.Given.Count(g => g));
            if (level > 1) Assert.True(clip.Given[0] && clip.Given[^1]);
            // Global units: 16 keyframes, or fewer at least 6 frames apart (short requests, DodSchedule.DefaultDepth).
            if (level == 1) Assert.True(clip.Frames.Length == 16 || d.Min() >= 6, string.Join(",", clip.Frames));
            lengths.Add(clip.Frames.Length);
            foreach (var g in d) gaps.Add(g);
            // The batch's other clips share the unit's shape.
            var like = LongVideoSampling.Like(clip, 3376, rng);
            Assert.Equal(d, like.Frames.Zip(like.Frames.Skip(1), (a, b) => b - a));
            Assert.InRange(like.Frames[^1], 0, 3375);
        }
        Assert.True(lengths.Count > 3, "finest units of several lengths");
        Assert.True(gaps.Count > 50, "many spacings, not only the hierarchy's 1, 15 and 225");
        // A fourth level exists only in short requests, whose keyframes DefaultDepth spreads 8 frames apart.
        var deep = LongVideoSampling.SampleRequest(4, 16, 3376, new Rng(1));
        Assert.InRange(deep.Frames[^1] - deep.Frames[0], 1, 8);
        Assert.ThrowsAny<LongshotException>(() => LongVideoSampling.SampleRequest(5, 16, 3376, new Rng(1)));
    }
}
