using Longshot.Diffusion.Svd;
using Longshot.Tensors;
using Longshot.Tensors.Nn;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>The GEGLU feed-forward runs its tokens in pieces when no graph is recorded: the same bits as at once.
/// </summary>
public class GegluFeedForwardTests
{
    [Fact]
    public void PiecesWithoutAGraphGiveTheBitsOfOnePass()
    {
        var ff = new GegluFeedForward(VarBuilder.Fresh(new ParameterStore(), 4), 8, 6);
        var x = Tensor.Randn(new Rng(5), 3, 50, 8);
        var whole = ff.Forward(x).ToArray();   // a graph is recorded (fresh weights need gradients): one pass
        int before = GegluFeedForward.PieceElements;
        try
        {
            GegluFeedForward.PieceElements = 2 * 32 * 7;   // 7 rows of the 150 per piece, the last one shorter
            using var _ = Tensor.NoGrad();
            var pieces = ff.Forward(x);
            Assert.Equal(new[] { 3, 50, 6 }, pieces.Shape);
            Assert.Equal(whole, pieces.ToArray());
        }
        finally { GegluFeedForward.PieceElements = before; }
    }
}
