using Xunit;

namespace Longshot.Tensors.Tests;

/// <summary>How a convolution's columns are grouped into GEMMs (several small images per GEMM, row tiles of a large
/// one) must not change a single bit of the result.</summary>
public class ConvTileTests
{
    [Theory]
    [InlineData(4, 1, true)]   // 16 positions: several images share a GEMM
    [InlineData(4, 2, false)]  // stride 2: 4 positions per image
    [InlineData(12, 1, true)]  // 144 positions: one image per GEMM, in row tiles
    public void ABatchEqualsItsImagesOneByOne(int size, int stride, bool withBias)
    {
        var rng = new Rng(21);
        int n = 7, c = 6, co = 10;
        var x = Tensor.Randn(rng, n, c, size, size);
        var w = Tensor.Randn(rng, co, c, 3, 3);
        var b = withBias ? Tensor.Randn(rng, co) : null;
        using var _ = Tensor.NoGrad();
        var batch = Ops.Conv2d(x, w, b, stride, padding: 1).ToArray();
        int per = batch.Length / n;
        for (int i = 0; i < n; i++)
        {
            var one = Ops.Conv2d(x.Narrow(0, i, 1), w, b, stride, padding: 1).ToArray();
            Assert.Equal(one, batch.AsSpan(i * per, per).ToArray());
        }
    }
}
