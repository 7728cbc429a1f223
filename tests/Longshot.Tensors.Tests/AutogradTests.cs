using Longshot.Tensors.Autograd;
using Longshot.Tensors.Nn;
using Xunit;

namespace Longshot.Tensors.Tests;

public class AutogradTests
{
    [Fact]
    public void NoGradScopeRecordsNothing()
    {
        var w = Tensor.Ones(3).SetRequiresGrad();
        Tensor y;
        using (Tensor.NoGrad()) y = w * 2f + w;
        Assert.False(y.RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => Ops.Sum(y).Backward());
        var z = w * 2f;
        Assert.True(z.RequiresGrad);
    }

    [Fact]
    public void InputsWithoutGradBuildNoGraph()
    {
        var a = Tensor.Ones(2, 2);
        var y = Ops.MatMul(a, a);
        Assert.False(y.RequiresGrad);
    }

    [Fact]
    public void FrozenParametersReceiveNoGradient()
    {
        var store = new ParameterStore();
        var vb = VarBuilder.Fresh(store, 1);
        var l1 = new Linear(vb.Pp("spatial"), 4, 4);
        var l2 = new Linear(vb.Pp("temporal"), 4, 4);
        Assert.Equal(2, store.TrainOnly(n => n.StartsWith("temporal.")));
        var x = Tensor.Randn(new Rng(2), 3, 4);
        var grads = Ops.Sum(l2.Forward(l1.Forward(x))).Backward();
        Assert.Null(grads.Get(l1.Weight));
        Assert.NotNull(grads.Get(l2.Weight));
        Assert.Equal(new[] { "temporal.weight", "temporal.bias" }, store.Trainable.Select(p => p.Name));
    }

    [Fact]
    public void GradientsAccumulateWhenATensorIsUsedTwice()
    {
        var x = Tensor.FromArray(new[] { 3f }, 1).SetRequiresGrad();
        var g = Ops.Sum(x * x + x).Backward();
        Assert.Equal(7f, g[x].Item(), 5);
    }

    [Fact]
    public void CheckpointGivesTheSameGradientsAsThePlainGraph()
    {
        var store = new ParameterStore();
        var vb = VarBuilder.Fresh(store, 3);
        var conv = new Conv2d(vb.Pp("conv"), 3, 5, 3, padding: 1);
        var norm = new GroupNorm(vb.Pp("norm"), 1, 5);
        var x = Tensor.Randn(new Rng(4), 2, 3, 6, 6).SetRequiresGrad();
        Tensor Block(Tensor[] a) => norm.Forward(conv.Forward(a[0]), silu: true);

        var plain = Ops.Sum(Block(new[] { x }) * Block(new[] { x })).Backward();
        var ck = Ops.Sum(Checkpoint.Run(Block, x) * Checkpoint.Run(Block, x)).Backward();
        foreach (var t in new[] { x, conv.Weight, conv.Bias!, norm.Weight, norm.Bias })
            TestUtil.AssertClose(plain[t], ck[t], 1e-5f, 1e-5f, t.Name ?? "x");
    }

    [Fact]
    public void ShapeMismatchNamesTheOpAndBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Ones(2, 3) + Tensor.Ones(4, 3));
        Assert.Contains("Add", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[4, 3]", e.Message);
        var m = Assert.Throws<ArgumentException>(() => Ops.MatMul(Tensor.Ones(2, 3), Tensor.Ones(4, 5)));
        Assert.Contains("MatMul", m.Message);
        var c = Assert.Throws<ArgumentException>(() => Ops.Conv2d(Tensor.Ones(1, 3, 8, 8), Tensor.Ones(4, 2, 3, 3)));
        Assert.Contains("Conv2d", c.Message);
    }

    [Fact]
    public void ViewsShareStorage()
    {
        var x = Tensor.Arange(12).Reshape(3, 4);
        var t = x.Transpose(0, 1);
        var n = x.Narrow(1, 1, 2);
        var e = Tensor.Ones(1, 4).Expand(5, 4);
        Assert.Same(x.Storage, t.Storage);
        Assert.Same(x.Storage, n.Storage);
        Assert.False(t.IsContiguous);
        Assert.Equal(0, e.Strides[0]);
        Assert.Equal(6f, n[1, 1]);
        Assert.Equal(new[] { 1f, 5f, 9f }, t.Narrow(0, 1, 1).ToArray());
    }

    /// <summary>Central finite differences on sum(f(x) * r) in float32, for ops whose fixtures cover fewer
    /// layouts.</summary>
    public static IEnumerable<object[]> FiniteDifferenceCases() => new[]
    {
        new object[] { "conv3d_stride2" }, new object[] { "convt2d" }, new object[] { "attention_bias_mask" },
        new object[] { "group_norm_silu" }, new object[] { "softmax_dim0" }, new object[] { "upsample3d" },
        new object[] { "avgpool3d" }, new object[] { "pad_replicate" }, new object[] { "gelu_tanh_chain" },
    };

    private static Tensor Apply(string name, Tensor x)
    {
        var rng = new Rng(77);
        return name switch
        {
            "conv3d_stride2" => Ops.Conv3d(x, Tensor.Randn(rng, 2, 3, 3, 3, 3), Tensor.Randn(rng, 2), 2, 1),
            "convt2d" => Ops.ConvTranspose2d(x.Reshape(1, 3, 5, 6), Tensor.Randn(rng, 3, 2, 3, 3), null, 2, 1),
            "attention_bias_mask" =>
                Ops.ScaledDotProductAttention(x.Reshape(1, 3, 6, 5), x.Reshape(1, 3, 6, 5) * 0.5f,
                x.Reshape(1, 3, 6, 5),
                Tensor.FromArray(Enumerable.Range(0, 36).Select(i => i % 7 == 3 ? 0f : 1f).ToArray(), 6, 6),
                    Tensor.Randn(rng, 3, 6, 6)),
            "group_norm_silu" =>
                Ops.GroupNorm(x.Reshape(2, 9, 5), 3, Tensor.Randn(rng, 9), Tensor.Randn(rng, 9), 1e-5f, true),
            "softmax_dim0" => Ops.Softmax(x.Reshape(6, 15), 0),
            "upsample3d" => Ops.UpsampleNearest(x.Reshape(1, 2, 3, 3, 5), 2, 1, 2),
            "avgpool3d" => Ops.AvgPool(x.Reshape(1, 1, 2, 9, 5).Narrow(3, 0, 8).Narrow(4, 0, 4), 2, 2, 2),
            "pad_replicate" => Ops.Pad(x.Reshape(2, 9, 5), new[] { 2, 3, 1, 1 }, PadMode.Replicate),
            "gelu_tanh_chain" => Ops.Gelu(Ops.Tanh(x) * 2f) / Ops.AddScalar(Ops.Exp(x * 0.1f), 1f),
            _ => throw new ArgumentException(name),
        };
    }

    [Theory]
    [MemberData(nameof(FiniteDifferenceCases))]
    public void GradientMatchesFiniteDifferences(string name)
    {
        var x0 = Tensor.Randn(new Rng(5), 90);
        var shapeIn = name == "conv3d_stride2" ? new[] { 1, 3, 5, 3, 2 } : new[] { 90 };
        var x = x0.Reshape(shapeIn).Clone().SetRequiresGrad();
        var y = Apply(name, x);
        var r = Tensor.Randn(new Rng(6), y.Shape);
        var grad = Ops.Sum(y * r).Backward()[x].ToArray();
        float Loss(Tensor xv) { using var _ = Tensor.NoGrad(); return Ops.Sum(Apply(name, xv) * r).Item(); }
        const float eps = 1e-2f;
        var xs = x.ToArray();
        for (int i = 0; i < xs.Length; i += 7)
        {
            var plus = (float[])xs.Clone(); plus[i] += eps;
            var minus = (float[])xs.Clone(); minus[i] -= eps;
            float fd = (Loss(Tensor.FromArray(plus, x.Shape)) - Loss(Tensor.FromArray(minus, x.Shape))) / (2 * eps);
            Assert.True(MathF.Abs(fd - grad[i]) <= 2e-2f * (1 + MathF.Abs(fd)),
                $"{name}: d/dx[{i}] analytic {grad[i]} vs finite difference {fd}");
        }
    }
}
