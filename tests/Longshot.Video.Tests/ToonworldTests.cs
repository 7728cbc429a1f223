using Longshot.Video.Imaging;
using Longshot.Video.Toonworld;
using Xunit;

namespace Longshot.Video.Tests;

public class ToonworldTests
{
    private static readonly ToonworldSettings Small = new() { Frames = 600, Width = 64, Height = 64, Seed = 11 };

    [Fact]
    public void SameSeedSameBytesOtherSeedOtherBytes()
    {
        var a = new ToonworldEpisode(Small, 0).RenderRange(0, 50);
        var b = new ToonworldEpisode(Small, 0).RenderRange(0, 50);
        var c = new ToonworldEpisode(Small with { Seed = 12 }, 0).RenderRange(0, 50);
        var d = new ToonworldEpisode(Small, 1).RenderRange(0, 50);
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(a[i].Frame.Rgb, b[i].Frame.Rgb);
            Assert.Equal(a[i].Caption, b[i].Caption);
        }
        Assert.Contains(Enumerable.Range(0, 50), i => !a[i].Frame.Rgb.AsSpan().SequenceEqual(c[i].Frame.Rgb));
        Assert.Contains(Enumerable.Range(0, 50), i => !a[i].Frame.Rgb.AsSpan().SequenceEqual(d[i].Frame.Rgb));
    }

    [Fact]
    public void DefaultEpisodeHasThePapersLengthAndCutsEveryTwoToTwelveSeconds()
    {
        var s = new ToonworldSettings();
        Assert.Equal(3376, s.Frames);
        var script = EpisodeScript.Create(s, 0);
        Assert.Equal(0, script.Shots[0].Start);
        Assert.Equal(3376, script.Shots[^1].End);
        for (int i = 0; i < script.Shots.Count - 1; i++)
        {
            Assert.Equal(script.Shots[i].End, script.Shots[i + 1].Start);
            Assert.InRange(script.Shots[i].End - script.Shots[i].Start, 2 * 24 - 1, 12 * 24 + 1);
        }
        Assert.True(script.Shots.Select(x => x.LocationId).Distinct().Count() >= 2, "scenes change");
        Assert.Equal(script.Cast.Count, script.Cast.Select(c => c.Shirt.Name).Distinct().Count());
    }

    public static IEnumerable<object[]> Seeds() =>
        new[] { new object[] { 1UL }, new object[] { 2UL }, new object[] { 3UL } };

    /// <summary>Every visible character that nobody overlaps shows its shirt colour inside its box; no shirt colour
    /// appears outside all boxes.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void AnnotationsMatchThePixels(ulong seed)
    {
        var ep = new ToonworldEpisode(new ToonworldSettings { Frames = 1500, Width = 96, Height = 96, Seed = seed }, 0);
        int checkedChars = 0;
        for (int t = 0; t < ep.FrameCount; t += 13)
        {
            var tf = ep.Render(t);
            var visible = tf.Annotation.Characters.Where(c => c.Visible).ToList();
            var shirts = ep.Script.Cast.Select(c => c.Shirt.Rgb).ToHashSet();
            foreach (var c in visible)
            {
                bool overlapped = tf.Annotation.Characters.Any(o => o.Id != c.Id && Overlap(o.Box, c.Box));
                if (overlapped) continue;
                var shirt = ep.Script.Cast[c.Id].Shirt.Rgb;
                int n = CountColour(tf.Frame, c.Box, shirt);
                Assert.True(n >= 2,
                    $"seed {seed} frame {t}: {c.Name}'s {c.Shirt} shirt not found in box [{string.Join(",", c.Box)}]");
                checkedChars++;
            }
            // Outside every character's box, no pixel has any cast member's exact shirt colour.
            for (int y = 0; y < tf.Frame.Height; y++)
                for (int x = 0; x < tf.Frame.Width; x++)
                {
                    if (tf.Annotation.Characters.Any(c => x >= c.Box[0] && x < c.Box[2] && y >= c.Box[1]
                        && y < c.Box[3])) continue;
                    Assert.False(shirts.Contains(tf.Frame.GetPixel(x, y)),
                        $"seed {seed} frame {t}: shirt colour at ({x},{y}) outside every box");
                }
        }
        Assert.True(checkedChars > 20, $"only {checkedChars} characters checked");
    }

    [Fact]
    public void CaptionsNameExactlyTheCharactersInView()
    {
        var ep = new ToonworldEpisode(new ToonworldSettings { Frames = 2000, Seed = 5 }, 0);
        var names = ep.Script.Cast.Select(c => c.Name).ToList();
        int withPeople = 0, empty = 0;
        for (int t = 0; t < ep.FrameCount; t += 7)
        {
            var tf = ep.Render(t);
            var named = names.Where(n => tf.Caption.Contains(n)).ToHashSet();
            var inView = tf.Annotation.Characters.Where(c => c.Visible).Select(c => c.Name).ToHashSet();
            Assert.True(named.SetEquals(inView),
                $"frame {t}: caption '{tf.Caption}' vs in view [{string.Join(", ", inView)}]");
            foreach (var c in tf.Annotation.Characters.Where(c => c.Visible))
                Assert.Contains($"{c.Name}, in a{(c.Shirt[0] is 'a' or 'e' or 'i' or 'o' or 'u' ? "n" : "")} " +
                    $"{c.Shirt} shirt", tf.Caption);
            if (inView.Count > 0) withPeople++; else empty++;
        }
        Assert.True(withPeople > empty * 3, $"{withPeople} frames with characters, {empty} without");
    }

    [Fact]
    public void ALookIsFixedForTheWholeEpisode()
    {
        var ep = new ToonworldEpisode(new ToonworldSettings { Frames = 3376, Seed = 9 }, 2);
        var seen = new Dictionary<int, (string, string, string)>();
        for (int t = 0; t < ep.FrameCount; t += 31)
            foreach (var c in ep.Render(t).Annotation.Characters)
            {
                var look = (c.Shirt, c.Accessory, c.Body);
                if (seen.TryGetValue(c.Id, out var before)) Assert.Equal(before, look);
                else seen[c.Id] = look;
            }
        Assert.True(seen.Count >= 2);
    }

    private static bool Overlap(int[] a, int[] b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

    private static int CountColour(Frame f, int[] box, Rgb c)
    {
        int n = 0;
        for (int y = box[1]; y < box[3]; y++)
            for (int x = box[0]; x < box[2]; x++)
                if (f.GetPixel(x, y) == c) n++;
        return n;
    }

    [Fact]
    public void AStoryFrameIsTheEpisodesFrameRenderedOnDemand()
    {
        var stories = new ToonworldStories(Small);
        foreach (var (story, frame) in new[] { (0, 0), (3, 250), (3, 599), (0, 0) })
        {
            var expected = new ToonworldEpisode(Small, story).Render(frame);
            var (picture, caption, annotation) = stories.Frame(story, frame);
            Assert.Equal(expected.Caption, caption);
            Assert.Equal(expected.Annotation.Shot, annotation.Shot);
            Assert.Equal(expected.Annotation.Place, stories.Annotation(story, frame).Place);
            Assert.Equal(expected.Frame.ToTensor().ToArray(), picture.ToTensor().ToArray());
        }
    }
}
