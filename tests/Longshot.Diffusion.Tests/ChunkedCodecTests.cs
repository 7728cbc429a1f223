using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class ChunkedCodecTests
{
    private static readonly AutoencoderKLConfig Tiny = new() { BlockOutChannels = new[] { 32, 32 } };

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(23)]
    public void TilesCoverEveryFrameAndWeightsArePositive(int length)
    {
        var codec = new ChunkedVideoCodec(AutoencoderKL.Create(Tiny), 8, 4);
        var starts = codec.TileStarts(length);
        var covered = new int[length];
        for (int k = 0; k < starts.Count; k++)
        {
            int n = Math.Min(8, length - starts[k]);
            for (int i = 0; i < n; i++)
            {
                covered[starts[k] + i]++;
                Assert.True(codec.Weight(i, n, k > 0, k < starts.Count - 1) > 0);
            }
        }
        Assert.All(covered, c => Assert.InRange(c, 1, 3));
        Assert.Equal(Math.Max(0, length - 8), starts[^1]);
    }

    /// <summary>Frames encoded independently give the same latents whether tiled or not; the blend must not distort
    /// them.</summary>
    [Fact]
    public void ChunkedCodingMatchesWholeVideoCodingForAnImageVae()
    {
        var vae = AutoencoderKL.Create(Tiny, 2);
        var video = Tensor.Rand(new Rng(3), -1, 1, 21, 3, 16, 16);
        var codec = new ChunkedVideoCodec(vae, 8, 4);
        var z = codec.Encode((s, n) => video.Narrow(0, s, n).Contiguous(), 21);
        Tensor direct;
        using (Tensor.NoGrad()) direct = vae.Encode(video).Mean;
        Close(direct, z, 1e-5f);
        var frames = codec.Decode(z).ToList();
        Assert.Equal(21, frames.Count);
        Tensor decoded;
        using (Tensor.NoGrad()) decoded = vae.Decode(z);
        for (int i = 0; i < 21; i++) Close(decoded.Narrow(0, i, 1).Squeeze(0), frames[i], 1e-5f);
    }

    [Fact]
    public void DecodingStreamsFramesBeforeTheWholeVideoIsDone()
    {
        var vae = AutoencoderKL.Create(Tiny with { Temporal = true }, 2);
        var codec = new ChunkedVideoCodec(vae, 8, 4);
        var z = Tensor.Randn(new Rng(4), 40, 4, 8, 8);
        using var e = codec.Decode(z).GetEnumerator();
        Assert.True(e.MoveNext()); // the first frame arrives after one tile, not after all nine
        Assert.Equal(new[] { 3, 16, 16 }, e.Current.Shape);
        int count = 1;
        while (e.MoveNext()) count++;
        Assert.Equal(40, count);
    }

    private static void Close(Tensor a, Tensor b, float tol)
    {
        Assert.Equal(a.Shape, b.Shape);
        var x = a.ToArray(); var y = b.ToArray();
        for (int i = 0; i < x.Length; i++) Assert.True(MathF.Abs(x[i] - y[i]) <= tol * (1 + MathF.Abs(x[i])),
            $"[{i}] {x[i]} vs {y[i]}");
    }
}
