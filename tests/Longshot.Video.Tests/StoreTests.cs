using Longshot.Video.Formats;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Video.Tests;

public class StoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-store-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);
    private string P(string n) => Path.Combine(_dir, n);

    private static readonly ToonworldSettings Small = new() { Frames = 200, Width = 32, Height = 32, Seed = 4 };

    [Fact]
    public void AnyFrameReadsBackExactlyWithItsCaptionAndAnnotation()
    {
        DatasetBuilder.GenerateToonworld(P("ds"), Small, 2);
        using var store = DatasetStore.Open(P("ds"));
        Assert.Equal(2, store.Episodes.Count);
        Assert.Equal((32, 32, 24.0), (store.Manifest.Width, store.Manifest.Height, store.Manifest.Fps));
        var ep = new ToonworldEpisode(Small, 1);
        foreach (int t in new[] { 199, 0, 117, 3 })
        {
            var expect = ep.Render(t);
            Assert.Equal(expect.Frame.Rgb, store.Episodes[1].ReadFrame(t).Rgb);
            Assert.Equal(expect.Caption, store.Episodes[1].Caption(t));
            var a = store.Episodes[1].Annotation(t)!;
            Assert.Equal(expect.Annotation.Shot, a.Shot);
            Assert.Equal(expect.Annotation.Characters.Select(c => (c.Name, c.Visible, string.Join(",", c.Box))),
                a.Characters.Select(c => (c.Name, c.Visible, string.Join(",", c.Box))));
        }
        Assert.True(store.Manifest.VocabularySize > 20);
        Assert.Empty(store.Verify());
    }

    [Fact]
    public void SameSeedGivesTheSameFiles()
    {
        var a = DatasetBuilder.GenerateToonworld(P("a"), Small, 1);
        var b = DatasetBuilder.GenerateToonworld(P("b"), Small, 1);
        Assert.Equal(a.Episodes[0].FramesFile.Sha256, b.Episodes[0].FramesFile.Sha256);
        Assert.Equal(a.Episodes[0].CaptionsFile.Sha256, b.Episodes[0].CaptionsFile.Sha256);
        var c = DatasetBuilder.GenerateToonworld(P("c"), Small with { Seed = 5 }, 1);
        Assert.NotEqual(a.Episodes[0].FramesFile.Sha256, c.Episodes[0].FramesFile.Sha256);
    }

    [Fact]
    public void AnInterruptedBuildDoesNotOpenAndResumesToTheSameStore()
    {
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p => { if (p.Episode == 1 && p.Frame == p.Frames) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            DatasetBuilder.GenerateToonworld(P("ds"), Small, 3, progress, cts.Token));
        var e = Assert.Throws<DatasetStoreException>(() => DatasetStore.Open(P("ds")));
        Assert.Contains("incomplete", e.Message);
        var resumed = DatasetBuilder.GenerateToonworld(P("ds"), Small, 3);
        var straight = DatasetBuilder.GenerateToonworld(P("ref"), Small, 3);
        Assert.Equal(straight.Episodes.Select(x => x.FramesFile.Sha256),
            resumed.Episodes.Select(x => x.FramesFile.Sha256));
        using var store = DatasetStore.Open(P("ds"));
        Assert.Equal(3, store.Episodes.Count);
        Assert.Empty(Directory.GetFiles(P("ds"), "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void ADifferentDatasetIsNeverOverwritten()
    {
        DatasetBuilder.GenerateToonworld(P("ds"), Small, 1);
        Assert.Throws<IOException>(() => DatasetBuilder.GenerateToonworld(P("ds"), Small with { Seed = 99 }, 1));
        Directory.CreateDirectory(P("busy"));
        File.WriteAllText(P("busy/notes.txt"), "mine");
        Assert.Throws<IOException>(() => DatasetBuilder.GenerateToonworld(P("busy"), Small, 1));
        Assert.Equal("mine", File.ReadAllText(P("busy/notes.txt")));
    }

    [Fact]
    public void CorruptionIsDetected()
    {
        var m = DatasetBuilder.GenerateToonworld(P("ds"), Small, 1);
        var lsv = Path.Combine(P("ds"), m.Episodes[0].FramesFile.Path);
        var bytes = File.ReadAllBytes(lsv);
        bytes[FrameFile.HeaderSize + 10] ^= 0x5A;
        File.WriteAllBytes(lsv, bytes);
        using (var store = DatasetStore.Open(P("ds")))
        {
            Assert.Throws<MediaFormatException>(() => store.Episodes[0].ReadFrame(0));
            Assert.Equal(new[] { m.Episodes[0].FramesFile.Path }, store.Verify());
        }
        File.WriteAllBytes(lsv, bytes[..(bytes.Length - 100)]);
        Assert.Contains("truncated", Assert.Throws<DatasetStoreException>(() => DatasetStore.Open(P("ds"))).Message);
        Assert.Contains("not a dataset store", Assert.Throws<DatasetStoreException>(() => DatasetStore.Open(_dir))
            .Message);
    }

    [Fact]
    public void EpisodesSplitIntoTrainValidationAndTest()
    {
        var splits = Enumerable.Range(0, 20).Select(Splits.For).ToList();
        Assert.Equal(16, splits.Count(s => s == Splits.Train));
        Assert.Equal(2, splits.Count(s => s == Splits.Validation));
        Assert.Equal(2, splits.Count(s => s == Splits.Test));
        Assert.Equal(new[] { "train", "validation" }, Enumerable.Range(0, 2).Select(Splits.For));
    }

    [Fact]
    public void CaptionTracksMapTimesToFrames()
    {
        File.WriteAllText(P("a.srt"),
            "1\n00:00:00,500 --> 00:00:01,000\nHello <i>there</i>\n\n2\n00:00:01,000 --> 00:00:02,000\nSecond " +
            "line\nwraps\n");
        var srt = CaptionTrack.Load(P("a.srt"), 60, 24);
        Assert.Equal("", srt[11]);
        Assert.Equal("Hello there", srt[12]);
        Assert.Equal("Second line wraps", srt[24]);
        Assert.Equal("", srt[48]);
        File.WriteAllText(P("a.vtt"), "WEBVTT\n\n00:01.000 --> 00:01.500\nCue\n");
        Assert.Equal("Cue", CaptionTrack.Load(P("a.vtt"), 60, 24)[24]);
        File.WriteAllText(P("a.jsonl"), "{\"start\": 2, \"end\": 5, \"text\": \"jump\"}\n");
        var j = CaptionTrack.Load(P("a.jsonl"), 10, 24);
        Assert.Equal(new[] { "", "", "jump", "jump", "jump", "", "", "", "", "" }, j);
        File.WriteAllText(P("bad.jsonl"), "{\"start\": 2}\n");
        Assert.Contains("bad.jsonl:1", Assert.Throws<LongshotException>(() => CaptionTrack.Load(P("bad.jsonl"), 10, 24))
            .Message);
        File.WriteAllText(P("bad.srt"), "1\n00:00:xx --> 00:00:01,000\nx\n");
        Assert.Contains("bad.srt:2", Assert.Throws<LongshotException>(() => CaptionTrack.Load(P("bad.srt"), 10, 24))
            .Message);
    }

    [Fact]
    public void ImportedFootageBecomesAStore()
    {
        if (!TestMedia.HasFfmpeg()) return;
        using (var w = new Mp4Writer(P("clip.mp4"),
            24)) { for (int t = 0; t < 48; t++) w.Write(TestMedia.Scene(80, 48, t % 20)); w.Complete(); }
        File.WriteAllText(P("clip.srt"), "1\n00:00:00,000 --> 00:00:01,000\nA red ball rolls.\n");
        var m = DatasetBuilder.Import(P("ds"), new[] { (P("clip.mp4"), (string?)P("clip.srt")) }, 32, 32, 12,
            FitMode.CenterCrop);
        Assert.Equal(24, m.Episodes[0].Frames);
        using var store = DatasetStore.Open(P("ds"));
        Assert.Equal("A red ball rolls.", store.Episodes[0].Caption(5));
        Assert.Equal("", store.Episodes[0].Caption(20));
        Assert.Null(store.Episodes[0].Annotation(0));
        Assert.Equal((32, 32), (store.Episodes[0].ReadFrame(23).Width, store.Episodes[0].ReadFrame(23).Height));
    }

    /// <summary>Progress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<BuildProgress> f) : IProgress<BuildProgress>
    {
        public void Report(BuildProgress value) => f(value);
    }
}
