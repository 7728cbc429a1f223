using Longshot.Video.Formats;
using Longshot.Video.Imaging;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Video.Tests;

public class FormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-video-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);
    private string P(string n) => Path.Combine(_dir, n);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(37, 23)]
    [InlineData(64, 64)]
    public void PngRoundTripIsBitExact(int w, int h)
    {
        foreach (var f in new[] { TestMedia.Noise(w, h, 1), TestMedia.Scene(Math.Max(w, 30), Math.Max(h, 30), 3) })
        {
            Png.Save(P("a.png"), f);
            Assert.Equal(f.Rgb, Png.Load(P("a.png")).Rgb);
        }
    }

    [Fact]
    public void CorruptPngsGiveClearErrors()
    {
        var bytes = Png.Encode(TestMedia.Scene(40, 30, 0));
        Assert.Contains("signature", Assert.Throws<MediaFormatException>(() => Png.Decode(new byte[] { 1, 2, 3 }))
            .Message);
        Assert.Contains("truncated", Assert.Throws<MediaFormatException>(() => Png.Decode(bytes[..(bytes.Length / 2)]))
            .Message);
        var flipped = (byte[])bytes.Clone();
        flipped[40] ^= 0xFF;
        Assert.Contains("CRC", Assert.Throws<MediaFormatException>(() => Png.Decode(flipped)).Message);
    }

    [Fact]
    public void Y4mPlanesRoundTripBitExactly()
    {
        foreach (var chroma in new[] { Y4mChroma.C444, Y4mChroma.C420 })
        {
            var rnd = new Random(4);
            int w = 18, h = 10, cs = Yuv.ChromaSize(w, h, chroma);
            var frames = Enumerable.Range(0, 3).Select(_ =>
            {
                var p = new YuvPlanes(new byte[w * h], new byte[cs], new byte[cs]);
                rnd.NextBytes(p.Y); rnd.NextBytes(p.U); rnd.NextBytes(p.V);
                return p;
            }).ToList();
            using (var wr = new Y4mWriter(P("a.y4m"), 24, chroma))
            {
                wr.Write(new Frame(w, h)); // fixes the size; its planes are written first
                foreach (var p in frames) wr.WritePlanes(p);
                wr.Complete();
            }
            using var rd = new Y4mReader(P("a.y4m"));
            Assert.Equal((w, h, 24.0, chroma), (rd.Width, rd.Height, rd.Fps, rd.Chroma));
            rd.ReadPlanes();
            foreach (var p in frames)
            {
                var q = rd.ReadPlanes()!;
                Assert.Equal(p.Y, q.Y); Assert.Equal(p.U, q.U); Assert.Equal(p.V, q.V);
            }
            Assert.Null(rd.ReadPlanes());
        }
    }

    [Fact]
    public void Y4mRgbRoundTripIsClose()
    {
        var f = TestMedia.Scene(64, 48, 2);
        using (var w = new Y4mWriter(P("s.y4m"), 24)) { w.Write(f); w.Complete(); }
        using var r = new Y4mReader(P("s.y4m"));
        Assert.True(Frame.Psnr(f, r.ReadFrame()!) > 40);
    }

    [Fact]
    public void GifDecodesToTheSamePixelsWhenColoursFit()
    {
        if (!TestMedia.HasFfmpeg()) return;
        var frames = Enumerable.Range(0, 5).Select(t => TestMedia.Scene(48, 32, t)).ToList();
        // Flat colours only, so every frame fits a 256-colour palette exactly.
        foreach (var f in frames) for (int i = 0; i < f.Rgb.Length; i++) f.Rgb[i] &= 0xE0;
        using (var w = new GifWriter(P("a.gif"), 24)) { foreach (var f in frames) w.Write(f); w.Complete(); }
        var back = FFmpeg.Read(P("a.gif"), 48, 32).ToList();
        Assert.Equal(frames.Count, back.Count);
        for (int i = 0; i < frames.Count; i++) Assert.Equal(frames[i].Rgb, back[i].Rgb);
    }

    /// <summary>
    /// At 128 x 128 (the paper's resolution). At 64 x 64 saturated cartoon edges cap any 4:2:0 video near 33 dB:
    /// converting this scene to YUV 4:2:0 and back, with no encoder at all, already gives 33.6 dB.
    /// </summary>
    [Fact]
    public void Mp4AtDefaultQualityKeepsPsnrAbove35()
    {
        if (!TestMedia.HasFfmpeg()) return;
        var frames = Enumerable.Range(0, 12).Select(t => TestMedia.Scene(128, 128, t)).ToList();
        using (var w = new Mp4Writer(P("a.mp4"), 24)) { foreach (var f in frames) w.Write(f); w.Complete(); }
        var (width, height, fps, _) = FFmpeg.Probe(P("a.mp4"));
        Assert.Equal((128, 128), (width, height));
        Assert.Equal(24, fps, 3);
        var back = FFmpeg.Read(P("a.mp4"), 128, 128).ToList();
        Assert.Equal(frames.Count, back.Count);
        for (int i = 0; i < frames.Count; i++) Assert.True(Frame.Psnr(frames[i], back[i]) >= 35,
            $"frame {i}: {Frame.Psnr(frames[i], back[i]):F1} dB");
    }

    [Fact]
    public void ImportFitsFootageToTheTargetSize()
    {
        if (!TestMedia.HasFfmpeg()) return;
        using (var w = new Mp4Writer(P("wide.mp4"),
            30)) { for (int t = 0; t < 30; t++) w.Write(TestMedia.Scene(96, 48, t)); w.Complete(); }
        var crop = FFmpeg.Read(P("wide.mp4"), 32, 32, fps: 15).ToList();
        Assert.InRange(crop.Count, 14, 16);
        Assert.All(crop, f => Assert.Equal((32, 32), (f.Width, f.Height)));
        var box = FFmpeg.Read(P("wide.mp4"), 32, 32, fit: FitMode.Letterbox).First();
        Assert.True(box.GetPixel(16, 1).R < 10 && box.GetPixel(16, 1).G < 10, "letterbox bars are black");
    }

    [Fact]
    public void UndecodableFilesGiveClearErrors()
    {
        if (!TestMedia.HasFfmpeg()) return;
        File.WriteAllText(P("bad.mp4"), "this is not a video");
        var e = Assert.Throws<MediaFormatException>(() => FFmpeg.Read(P("bad.mp4"), 32, 32).ToList());
        Assert.Contains("bad.mp4", e.Message);
        Assert.Throws<LongshotException>(() => FFmpeg.Read(P("missing.mp4"), 32, 32).ToList());
    }

    [Fact]
    public void AnUnfinishedWriterLeavesNoFile()
    {
        using (var w = new GifWriter(P("x.gif"), 24)) w.Write(TestMedia.Scene(32, 32, 0));
        using (var w = new Y4mWriter(P("x.y4m"), 24)) w.Write(TestMedia.Scene(32, 32, 0));
        using (var w = new PngSequenceWriter(P("frames"))) w.Write(TestMedia.Scene(32, 32, 0));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
        Assert.Throws<LongshotException>(() =>
        {
            using var w = new GifWriter(P("y.gif"), 24);
            w.Write(TestMedia.Scene(32, 32, 0));
            w.Write(TestMedia.Scene(40, 32, 0));
        });
    }

    [Fact]
    public void ContactSheetKeepsOnlyTheFramesItShows()
    {
        using var sheet = new ContactSheet(P("sheet.png"), every: 10, columns: 4);
        for (int t = 0; t < 95; t++) sheet.Write(TestMedia.Scene(32, 24, t % 20));
        sheet.Complete();
        var img = Png.Load(P("sheet.png"));
        // 10 tiles (0, 10, ..., 90) in 4 columns -> 3 rows.
        Assert.Equal(2 + 4 * (32 + 2), img.Width);
        Assert.Equal(2 + 3 * (24 + 9 + 2), img.Height);
    }

    [Fact]
    public void PngFramesFolderAppearsWhenComplete()
    {
        using (var w = new PngSequenceWriter(P("seq")))
        {
            for (int t = 0; t < 3; t++) w.Write(TestMedia.Scene(32, 32, t));
            Assert.False(Directory.Exists(P("seq")));
            w.Complete();
        }
        Assert.Equal(3, Directory.GetFiles(P("seq"), "*.png").Length);
        Assert.Equal(TestMedia.Scene(32, 32, 2).Rgb, Png.Load(P("seq/frame_000002.png")).Rgb);
        // "folder/" names the same folder: its temporary sibling stays outside it.
        using (var w = new PngSequenceWriter(P("slash") + Path.DirectorySeparatorChar))
        {
            w.Write(TestMedia.Scene(32, 32, 0));
            w.Complete();
        }
        Assert.Single(Directory.GetFileSystemEntries(P("slash")));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(_dir), e => Path.GetFileName(e).StartsWith('.'));
    }
}
