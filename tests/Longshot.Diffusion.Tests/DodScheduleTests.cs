using Longshot.Diffusion.Pipelines;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class DodScheduleTests
{
    [Theory]
    [InlineData(16, 1)]
    [InlineData(17, 2)]
    [InlineData(226, 2)]
    [InlineData(227, 3)]
    [InlineData(3376, 3)]
    public void DepthCoversTheLength(int frames, int depth) => Assert.Equal(depth, DodSchedule.DepthFor(frames, 16));

    [Fact]
    public void The3376FrameScheduleHasThePapersShape()
    {
        var s = new DodSchedule(3376, 16);
        Assert.Equal(3, s.Depth);
        Assert.Single(s.Levels[0]);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => i * 225), s.Levels[0][0].Positions);
        Assert.Equal(15, s.Levels[1].Count);
        Assert.Equal(225, s.Levels[2].Count);
        Assert.Equal(3, s.CriticalPath);
        // Every frame is generated exactly once.
        var made = s.Units.SelectMany(u => u.Generates).ToList();
        Assert.Equal(3376, made.Count);
        Assert.Equal(Enumerable.Range(0, 3376), made.OrderBy(x => x));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(17)]
    [InlineData(100)]
    [InlineData(1024)]
    [InlineData(1000)]
    [InlineData(5000)]
    public void TheHierarchySpansExactlyTheRequestedFramesEachMadeOnce(int frames)
    {
        var s = new DodSchedule(frames, 16);
        var made = s.Units.SelectMany(u => u.Generates).ToList();
        Assert.Equal(Enumerable.Range(0, frames), made.OrderBy(x => x));
        // The global model's keyframes reach from the first frame to the last.
        var keys = s.Levels[0].Single().Positions;
        Assert.Equal(Math.Min(s.Steps, frames - 1) + 1, keys.Length);
        if (frames > 8 * 15) Assert.Equal(16, keys.Length);
        Assert.Equal(0, keys[0]);
        Assert.Equal(frames - 1, keys[^1]);
        foreach (var u in s.Units)
        {
            Assert.InRange(u.Positions.Length, Math.Min(2, frames), 16);
            // Nearly equal steps: spacings inside a unit differ by at most one.
            var gaps = u.Positions.Zip(u.Positions.Skip(1), (a, b) => b - a).ToList();
            if (gaps.Count > 0) Assert.InRange(gaps.Max() - gaps.Min(), 0, 1);
            Assert.All(gaps, g => Assert.True(g >= 1));
            if (u.Level == 1) continue;
            // Its two ends were made by earlier levels, and they are all it is given.
            var earlier = s.Levels.Take(u.Level - 1).SelectMany(l => l).SelectMany(x => x.Generates).ToHashSet();
            Assert.Contains(u.Positions[0], earlier);
            Assert.Contains(u.Positions[^1], earlier);
            Assert.Equal(2, u.Given.Count(g => g));
        }
        // The finest level reaches consecutive frames.
        Assert.All(s.Levels[^1], u => Assert.All(u.Positions.Zip(u.Positions.Skip(1), (a, b) => b - a),
            g => Assert.Equal(1, g)));
    }

    [Theory]
    [InlineData(16, 4, new[] { 0, 8, 15 })]
    [InlineData(100, 3, new[] { 0, 20, 40, 59, 79, 99 })]
    [InlineData(121, 2, new[] { 0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120 })]
    [InlineData(5, 2, new[] { 0, 2, 4 })]
    [InlineData(3, 1, new[] { 0, 1, 2 })]
    public void KeyframesOfAShortVideoAreSpreadApartByDefault(int frames, int depth, int[] keys)
    {
        var s = new DodSchedule(frames, 16);
        Assert.Equal(depth, s.Depth);
        Assert.Equal(keys, s.Levels[0].Single().Positions);
        Assert.All(s.Levels, l => Assert.NotEmpty(l));
        Assert.Equal(1, new DodSchedule(16, 16, depth: 1).Depth); // one global unit when asked for
    }

    [Fact]
    public void EveryStorySegmentOfTheDemoGetsAKeyframe()
    {
        // The demo story: 10 segments over 1,024 frames; keyframes are 68-69 frames apart.
        var keys = new DodSchedule(1024, 16).Levels[0].Single().Positions;
        for (int segment = 0; segment < 10; segment++)
        {
            int a = segment * 1024 / 10, b = (segment + 1) * 1024 / 10;
            Assert.Contains(keys, k => k >= a && k < b);
        }
        Assert.Equal(new[] { 0, 68, 136, 205, 273, 341, 409, 477, 546, 614, 682, 750, 818, 887, 955, 1023 }, keys);
    }

    [Fact]
    public void ADeeperHierarchySplitsEveryLevelIntoFewerSteps()
    {
        var s = new DodSchedule(1024, 16, depth: 4);
        Assert.Equal(4, s.Depth);
        Assert.Equal(6, s.Steps);                   // 6^4 = 1296 >= 1023 > 5^4
        Assert.All(s.Levels, l => Assert.NotEmpty(l));
        Assert.Equal(7, s.Levels[0].Single().Positions.Length);
        Assert.Equal(Enumerable.Range(0, 1024), s.Units.SelectMany(u => u.Generates).OrderBy(x => x));
        var e = Assert.ThrowsAny<LongshotException>(() => new DodSchedule(1024, 16, depth: 2));
        Assert.Contains("depth 3 is needed", e.Message);
    }

    [Fact]
    public void AutoregressiveCriticalPathGrowsWithLength()
    {
        var ar = new AutoregressiveSchedule(1024, 16);
        var dod = new DodSchedule(1024, 16);
        Assert.Equal(1 + (int)Math.Ceiling((1024 - 16) / 15.0), ar.CriticalPath);
        Assert.True(ar.CriticalPath >= 20 * dod.CriticalPath);
        var made = ar.Units.SelectMany(u => u.Generates).ToHashSet();
        Assert.All(Enumerable.Range(0, 1024), f => Assert.Contains(f, made));
        for (int i = 1; i < ar.Units.Count; i++) Assert.Equal(ar.Units[i - 1].Positions[^1], ar.Units[i].Positions[0]);
    }
}
