using Longshot.Diffusion.Training;
using Longshot.Diffusion.Vae;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class LatentCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-latents-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void LatentsAreEncodedOnceOverConsecutiveFramesAndReused()
    {
        string data = Path.Combine(_dir, "data"), vaeDir = Path.Combine(_dir, "vae");
        DatasetBuilder.GenerateToonworld(data,
            new ToonworldSettings { Frames = 20, Width = 16, Height = 16, Seed = 2 }, 2);
        var vae = AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 }, Temporal = true,
            TemporalInit = "random" }, 1);
        vae.Save(vaeDir);
        using var store = DatasetStore.Open(data);
        var cache = LatentCache.Build(store, store.Episodes, vaeDir);
        var ep = store.Episodes[1];
        var z = cache.Frames(ep, new[] { 3, 7, 19 });
        Assert.Equal(new[] { 3, 4, 8, 8 }, z.Shape);
        // The same as encoding the whole episode with the chunked codec, up to float16 storage.
        var all = new ChunkedVideoCodec(vae)
            .Encode((s, n) => ClipSampler.Load(Enumerable.Range(s, n).Select(f => (ep, f)).ToList(), 1), 20)
            * vae.Config.ScalingFactor;
        var expect = all.Narrow(0, 7, 1).ToArray(); var got = z.Narrow(0, 1, 1).ToArray();
        for (int i = 0; i < expect.Length; i++) Assert.True(MathF.Abs(expect[i] - got[i]) < 2e-3f
            * (1 + MathF.Abs(expect[i])), $"[{i}] {got[i]} vs {expect[i]}");
        var folder = LatentCache.FolderFor(store, vaeDir);
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(folder, ep.Entry.Name + ".safetensors"));
        var again = LatentCache.Build(store, store.Episodes, vaeDir);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(folder, ep.Entry.Name + ".safetensors")));
        Assert.Equal(z.ToArray(), again.Frames(ep, new[] { 3, 7, 19 }).ToArray());
        // Another VAE gets its own cache folder.
        AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 } }, 5)
            .Save(Path.Combine(_dir, "vae2"));
        Assert.NotEqual(folder, LatentCache.FolderFor(store, Path.Combine(_dir, "vae2")));
    }
}
