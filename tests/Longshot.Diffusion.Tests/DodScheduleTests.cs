using Longshot.Diffusion.Pipelines;
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
    [InlineData(100)]
    [InlineData(1024)]
    [InlineData(1000)]
    public void OnlyTheNeededUnitsArePlannedAndEveryFrameIsCovered(int frames)
    {
        var s = new DodSchedule(frames, 16);
        var made = s.Units.SelectMany(u => u.Generates).ToHashSet();
        Assert.All(Enumerable.Range(0, frames), f => Assert.Contains(f, made));
        foreach (var level in s.Levels.Skip(1))
            foreach (var u in level)
            {
                Assert.True(u.Positions[0] < frames - 1, "a unit whose gap lies beyond the video is not planned");
                // Its two ends were made by earlier levels.
                var earlier = s.Levels.Take(u.Level - 1).SelectMany(l => l).SelectMany(x => x.Generates).ToHashSet();
                Assert.Contains(u.Positions[0], earlier);
                Assert.Contains(u.Positions[^1], earlier);
            }
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
