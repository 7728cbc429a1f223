using Longshot.Tensors.Nn;
using Xunit;

namespace Longshot.Tensors.Tests;

public class ModuleTests
{
    [Fact]
    public void CrossAttentionUsesTheContextAndDiffusersNames()
    {
        var store = new ParameterStore();
        var attn = new MultiHeadAttention(VarBuilder.Fresh(store, 1).Pp("attn2"), 16, 4, contextDim: 12);
        Assert.Contains("attn2.to_k.weight", store.Named.Select(p => p.Name));
        Assert.Equal(new[] { 16, 12 }, store["attn2.to_k.weight"].Shape);
        Assert.Equal(new[] { 16 }, store["attn2.to_out.0.bias"].Shape);
        var x = Tensor.Randn(new Rng(2), 2, 5, 16);
        var ctxA = Tensor.Randn(new Rng(3), 2, 7, 12);
        var ctxB = Tensor.Randn(new Rng(4), 2, 7, 12);
        var ya = attn.Forward(x, ctxA);
        Assert.Equal(new[] { 2, 5, 16 }, ya.Shape);
        Assert.NotEqual(ya.ToArray(), attn.Forward(x, ctxB).ToArray());
    }

    [Fact]
    public void ZeroInitialisedOutputMakesAResidualAttentionAnIdentity()
    {
        var store = new ParameterStore();
        var attn = new MultiHeadAttention(VarBuilder.Fresh(store, 1).Pp("temporal"), 8, 2, zeroOut: true);
        var x = Tensor.Randn(new Rng(5), 3, 4, 8);
        Assert.Equal(x.ToArray(), (x + attn.Forward(x)).ToArray());
        // It still learns: the output projection receives a gradient.
        var g = Ops.Sum(x + attn.Forward(x)).Backward();
        Assert.NotNull(g.Get(attn.ToOut.Weight));
    }

    [Fact]
    public void SequentialNamesLayersByIndexAndPropagatesEvalMode()
    {
        var store = new ParameterStore();
        var rng = new Rng(1);
        Dropout? drop = null;
        var seq = new Sequential(VarBuilder.Fresh(store, 1).Pp("net"),
            vb => new Linear(vb, 4, 8),
            _ => new Activation(Ops.Silu),
            _ => drop = new Dropout(0.5f, rng),
            vb => new Linear(vb, 8, 2));
        Assert.Equal(new[] { "net.0.weight", "net.0.bias", "net.3.weight", "net.3.bias" },
            store.Named.Select(p => p.Name));
        seq.Eval();
        Assert.False(drop!.Training);
        var x = Tensor.Randn(new Rng(2), 5, 4);
        Assert.Equal(seq.Forward(x).ToArray(), seq.Forward(x).ToArray());
    }

    [Fact]
    public void FreshInitIsDeterministicPerNameAndSeed()
    {
        Tensor Make(ulong seed, string name)
        {
            var s = new ParameterStore();
            return new Linear(VarBuilder.Fresh(s, seed).Pp(name), 6, 6).Weight;
        }
        Assert.Equal(Make(3, "a").ToArray(), Make(3, "a").ToArray());
        Assert.NotEqual(Make(3, "a").ToArray(), Make(3, "b").ToArray());
        Assert.NotEqual(Make(3, "a").ToArray(), Make(4, "a").ToArray());
        Assert.All(Make(3, "a").ToArray(), v => Assert.InRange(v, -1 / MathF.Sqrt(6), 1 / MathF.Sqrt(6)));
    }
}
