using ILGPU.Runtime;
using Longshot.Tensors.Cuda.Kernels;
using Longshot.Tensors.Kernels;
using Longshot.Tensors.Optim;
using Xunit;

namespace Longshot.Tensors.Cuda.Tests;

/// <summary>One CPU accelerator for the whole class (creating one compiles nothing, loading kernels does).</summary>
public sealed class DeviceFixture : IDisposable
{
    public GpuDevice Device { get; } = GpuDevice.OpenCpuAccelerator();
    public void Dispose() => Device.Dispose();
}

/// <summary>
/// Every CUDA kernel run on ILGPU's CPU accelerator against the engine's CPU backend, on shapes that leave partial
/// tiles and odd sizes.
/// </summary>
public class CpuAcceleratorTests(DeviceFixture fixture) : IClassFixture<DeviceFixture>
{
    private readonly GpuDevice _dev = fixture.Device;

    private static Tensor Rand(ulong seed, params int[] shape) => Expect.Rand(seed, shape);

    private static void Close(float[] expect, float[] got, float tol, string what) =>
        Expect.Close(expect, got, tol, what);

    [Theory]
    [InlineData(UnaryOp.Neg)] [InlineData(UnaryOp.Exp)] [InlineData(UnaryOp.Square)] [InlineData(UnaryOp.Relu)]
    [InlineData(UnaryOp.Sigmoid)] [InlineData(UnaryOp.Tanh)] [InlineData(UnaryOp.Silu)] [InlineData(UnaryOp.Gelu)]
    [InlineData(UnaryOp.Sqrt)] [InlineData(UnaryOp.Log)]
    public void UnaryOpsAndTheirGradientsMatchTheEngine(UnaryOp op)
    {
        bool positive = op is UnaryOp.Sqrt or UnaryOp.Log;
        var x = positive ? Ops.Exp(Rand(1, 1001)) : Rand(1, 1001);
        x.SetRequiresGrad();
        var y = op switch
        {
            UnaryOp.Neg => Ops.Neg(x), UnaryOp.Exp => Ops.Exp(x), UnaryOp.Square => Ops.Square(x),
            UnaryOp.Relu => Ops.Relu(x), UnaryOp.Sigmoid => Ops.Sigmoid(x), UnaryOp.Tanh => Ops.Tanh(x),
            UnaryOp.Silu => Ops.Silu(x), UnaryOp.Gelu => Ops.Gelu(x), UnaryOp.Sqrt => Ops.Sqrt(x),
            _ => Ops.Log(x),
        };
        var dy = Rand(2, 1001);
        var dx = Ops.Sum(y * dy).Backward()[x];
        using var gx = _dev.Upload(x.ToArray());
        using var gy = _dev.Zeros(1001);
        using var gdy = _dev.Upload(dy.ToArray());
        using var gdx = _dev.Zeros(1001);
        _dev.Kernels.Unary(op, gx.View, gy.View);
        _dev.Kernels.UnaryBackward(op, gx.View, gdy.View, gdx.View);
        Close(y.ToArray(), _dev.Download(gy), 2e-5f, $"{op}");
        Close(dx.ToArray(), _dev.Download(gdx), 2e-5f, $"d{op}");
    }

    [Fact]
    public void BinaryOpsBroadcastLikeTheEngine()
    {
        var a = Rand(3, 2, 3, 5, 7);
        var b = Ops.Exp(Rand(4, 1, 3, 1, 7));
        var g = new Broadcast4 { D0 = 2, D1 = 3, D2 = 5, D3 = 7, A0 = 105, A1 = 35, A2 = 7, A3 = 1, B0 = 0, B1 = 7,
            B2 = 0, B3 = 1 };
        using var ga = _dev.Upload(a.ToArray());
        using var gb = _dev.Upload(b.ToArray());
        using var gy = _dev.Zeros(210);
        foreach (var (op, expect) in new (BinaryOp, Tensor)[] { (BinaryOp.Add, a + b), (BinaryOp.Sub, a - b),
            (BinaryOp.Mul, a * b), (BinaryOp.Div, a / b) })
        {
            _dev.Kernels.Binary(op, ga.View, gb.View, gy.View, g);
            Close(expect.ToArray(), _dev.Download(gy), 1e-6f, $"{op}");
        }
        // The engine has no elementwise max or min; (a + b +- |a - b|) / 2 is their definition.
        var sum = (a + b).ToArray();
        var gap = (a - b).ToArray().Select(MathF.Abs).ToArray();
        _dev.Kernels.Binary(BinaryOp.Max, ga.View, gb.View, gy.View, g);
        Close(sum.Select((v, i) => (v + gap[i]) / 2).ToArray(), _dev.Download(gy), 1e-6f, "max");
        _dev.Kernels.Binary(BinaryOp.Min, ga.View, gb.View, gy.View, g);
        Close(sum.Select((v, i) => (v - gap[i]) / 2).ToArray(), _dev.Download(gy), 1e-6f, "min");
        _dev.Kernels.Affine(ga.View, gy.View, 1.5f, -2f);
        Close((a * 1.5f - 2f).ToArray(), _dev.Download(gy), 1e-6f, "affine");
    }

    [Theory]
    [InlineData(1, 1, 1, false, false)]
    [InlineData(37, 19, 45, false, false)]
    [InlineData(37, 19, 45, true, false)]
    [InlineData(37, 19, 45, false, true)]
    [InlineData(17, 33, 16, true, true)]
    public void TiledAndDirectGemmMatchTheCpuGemmWithEveryTranspose(int m, int n, int k, bool ta, bool tb)
    {
        var a = Rand(5, m * k).ToArray();
        var b = Rand(6, k * n).ToArray();
        var c = Rand(7, m * n).ToArray();
        var expect = (float[])c.Clone();
        Gemm.Sgemm(ta, tb, m, n, k, 0.5f, a, 0, ta ? m : k, b, 0, tb ? k : n, 2f, expect, 0, n);
        using var ga = _dev.Upload(a);
        using var gb = _dev.Upload(b);
        var shape = new GemmShape { M = m, N = n, K = k, TransA = ta ? 1 : 0, TransB = tb ? 1 : 0, Alpha = 0.5f,
            Beta = 2f };
        using (var gc = _dev.Upload(c))
        {
            _dev.Kernels.Gemm(ga.View, gb.View, gc.View, shape);
            Close(expect, _dev.Download(gc), 1e-5f, "tiled C");
        }
        using (var gc = _dev.Upload(c))
        {
            _dev.Kernels.GemmDirect(ga.View, gb.View, gc.View, shape);
            Close(expect, _dev.Download(gc), 1e-5f, "direct C");
        }
    }

    [Theory]
    [InlineData(7, 5)]
    [InlineData(3, 300)]
    public void SoftmaxRowsAndSumsMatchTheEngine(int rows, int cols)
    {
        var x = Rand(8, rows, cols).SetRequiresGrad();
        var y = Ops.Softmax(x);
        var dy = Rand(9, rows, cols);
        var dx = Ops.Sum(y * dy).Backward()[x];
        using var gx = _dev.Upload(x.ToArray());
        using var gy = _dev.Zeros(rows * cols);
        using var gdy = _dev.Upload(dy.ToArray());
        using var gdx = _dev.Zeros(rows * cols);
        using var gs = _dev.Zeros(rows);
        _dev.Kernels.Softmax(gx.View, gy.View, rows, cols);
        _dev.Kernels.SoftmaxBackward(gy.View, gdy.View, gdx.View, rows, cols);
        _dev.Kernels.SumRows(gx.View, gs.View, rows, cols);
        Close(y.ToArray(), _dev.Download(gy), 1e-5f, "softmax");
        Close(dx.ToArray(), _dev.Download(gdx), 1e-5f, "softmax backward");
        Close(Ops.Sum(x, 1).ToArray(), _dev.Download(gs), 1e-5f, "sum");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GroupNormWithAndWithoutSiluMatchesTheEngineForwardAndBackward(bool silu)
    {
        int n = 2, c = 12, groups = 4, h = 5, w = 7;
        var x = (Rand(10, n, c, h, w) * 2f + 0.5f).Detach().SetRequiresGrad();
        var gamma = Rand(11, c).SetRequiresGrad();
        var beta = Rand(12, c).SetRequiresGrad();
        var y = Ops.GroupNorm(x, groups, gamma, beta, 1e-5f, silu);
        var dy = Rand(13, n, c, h, w);
        using var gx = _dev.Upload(x.ToArray());
        using var gg = _dev.Upload(gamma.ToArray());
        using var gb = _dev.Upload(beta.ToArray());
        using var gy = _dev.Zeros(x.Numel);
        using var mean = _dev.Zeros(n * groups);
        using var rstd = _dev.Zeros(n * groups);
        _dev.Kernels.GroupNorm(gx.View, gg.View, gb.View, gy.View, mean.View, rstd.View, n, c, h * w, groups, 1e-5f,
            silu);
        Close(y.ToArray(), _dev.Download(gy), 1e-5f, "group norm");
        if (silu) return; // the backward kernel is the norm's; SiLU's backward is the unary kernel's
        var grads = Ops.Sum(y * dy).Backward();
        using var gdy = _dev.Upload(dy.ToArray());
        using var gdx = _dev.Zeros(x.Numel);
        using var dg = _dev.Zeros(n * c);
        using var db = _dev.Zeros(n * c);
        _dev.Kernels.GroupNormBackward(gx.View, gdy.View, gg.View, mean.View, rstd.View, gdx.View, dg.View, db.View,
            n, c, h * w, groups);
        Close(grads[x].ToArray(), _dev.Download(gdx), 1e-4f, "dx");
        float[] SumOverSamples(float[] part) => Enumerable.Range(0, c).Select(k => part[k] + part[c + k]).ToArray();
        Close(grads[gamma].ToArray(), SumOverSamples(_dev.Download(dg)), 1e-4f, "dgamma");
        Close(grads[beta].ToArray(), SumOverSamples(_dev.Download(db)), 1e-4f, "dbeta");
    }

    [Theory]
    [InlineData(45, 37, 24, false)]
    [InlineData(45, 37, 24, true)]
    [InlineData(16, 80, 64, true)]
    public void FlashAttentionMatchesTheEngineWithBiasAndMask(int lq, int lk, int d, bool extras)
    {
        int b = 2, h = 3;
        var q = Rand(14, b, h, lq, d); var k = Rand(15, b, h, lk, d); var v = Rand(16, b, h, lk, d);
        var bias = extras ? Rand(17, 1, h, lq, lk) : null;
        // Each query blocks every third key (not all of them).
        var mask = extras ? Tensor.FromArray(Enumerable.Range(0, lq * lk).Select(i => (i % lk) % 3 == i / lk % 3
            ? 0f : 1f).ToArray(), 1, 1, lq, lk) : null;
        var y = Ops.ScaledDotProductAttention(q, k, v, mask, bias);
        using var gq = _dev.Upload(q.ToArray());
        using var gk = _dev.Upload(k.ToArray());
        using var gv = _dev.Upload(v.ToArray());
        using var gbias = _dev.Upload(bias?.ToArray() ?? new float[1]);
        using var gmask = _dev.Upload(mask?.ToArray() ?? new float[1]);
        using var go = _dev.Zeros(y.Numel);
        using var lse = _dev.Zeros(b * h * lq);
        var s = new AttentionShape { B = b, H = h, Lq = lq, Lk = lk, D = d, Dv = d, Scale = 1f / MathF.Sqrt(d) };
        if (extras)
            s = s with { HasBias = 1, BiasB = 0, BiasH = lq * lk, BiasQ = lk, BiasK = 1,
                HasMask = 1, MaskB = 0, MaskH = 0, MaskQ = lk, MaskK = 1 };
        _dev.Kernels.Attention(gq.View, gk.View, gv.View, gbias.View, gmask.View, go.View, lse.View, s);
        Close(y.ToArray(), _dev.Download(go), 1e-5f, "attention");
    }

    [Fact]
    public void AdamWStepsLikeTheEngineOptimizer()
    {
        var p = Rand(18, 301);
        var start = p.ToArray();
        var opt = new AdamW(new[] { ("w", p) }, 1e-2f, weightDecay: 0.1f);
        using var gp = _dev.Upload(start);
        using var gm = _dev.Zeros(301);
        using var gv = _dev.Zeros(301);
        for (int step = 1; step <= 3; step++)
        {
            var g = Rand(100 + (ulong)step, 301);
            opt.Step(Autograd.GradStore.Of(new[] { (p, g) }));
            using var gg = _dev.Upload(g.ToArray());
            float bc1 = 1f - MathF.Pow(0.9f, step), bc2 = 1f - MathF.Pow(0.999f, step);
            _dev.Kernels.AdamW(gp.View, gg.View, gm.View, gv.View, new AdamWStep { Beta1 = 0.9f, Beta2 = 0.999f,
                Eps = 1e-8f, StepSize = 1e-2f / bc1, SqrtBiasCorrection2 = MathF.Sqrt(bc2),
                Decay = 1f - 1e-2f * 0.1f });
        }
        Close(p.ToArray(), _dev.Download(gp), 1e-6f, "w");
    }

    [Fact]
    public void EmbeddingGathersRows()
    {
        var table = Rand(19, 11, 6);
        int[] ids = { 3, 0, 10, 3, 7 };
        using var gt = _dev.Upload(table.ToArray());
        using var gi = _dev.Accelerator.Allocate1D(ids);
        using var gy = _dev.Zeros(ids.Length * 6);
        _dev.Kernels.Embedding(gi.View, gt.View, gy.View, 6);
        Close(Ops.Embedding(table, ids, ids.Length).ToArray(), _dev.Download(gy), 0f, "embedding");
    }
}
