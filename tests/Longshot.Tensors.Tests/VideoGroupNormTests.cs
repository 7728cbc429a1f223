using Longshot.Tensors;
using Xunit;

namespace Longshot.Tensors.Tests;

/// <summary>Group norm over every frame of a video, read where the frames lie, against the group norm of the video
/// with its channels moved ahead of its frames.</summary>
public class VideoGroupNormTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatchesTheGroupNormOfThePermutedVideo(bool silu)
    {
        var rng = new Rng(8);
        int videos = 2, frames = 3, c = 8, h = 5, w = 4;
        var x = Tensor.Randn(rng, videos * frames, c, h, w) * 3f + 1f;
        var gamma = Tensor.Randn(rng, c); var beta = Tensor.Randn(rng, c);
        var permuted = x.Reshape(videos, frames, c, h * w).Permute(0, 2, 1, 3).Contiguous();
        var expected = Ops.GroupNorm(permuted, 4, gamma, beta, 1e-5f, silu).Permute(0, 2, 1, 3).Contiguous()
            .ToArray();
        using var _ = Tensor.NoGrad();
        var y = Ops.VideoGroupNorm(x, frames, 4, gamma, beta, 1e-5f, silu);
        Assert.Equal(x.Shape, y.Shape);
        var got = y.ToArray();
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-5f * Math.Max(1f, Math.Abs(expected[i])),
                $"element {i}: {got[i]} against {expected[i]}");
    }

    [Fact]
    public void OneFrameIsThePlainGroupNorm()
    {
        var x = Tensor.Randn(new Rng(9), 4, 6, 3, 3);
        var expected = Ops.GroupNorm(x, 3, null, null).ToArray();
        using var _ = Tensor.NoGrad();
        Assert.Equal(expected, Ops.VideoGroupNorm(x, 1, 3, null, null).ToArray());
    }

    [Fact]
    public void FramesThatAreNotWholeVideosAreRefused() =>
        Assert.Throws<ArgumentException>(() => Ops.VideoGroupNorm(Tensor.Zeros(5, 4, 2, 2), 2, 2, null, null));
}
