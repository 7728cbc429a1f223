using Longshot.Tensors.Devices;
using Xunit;

namespace Longshot.Tensors.Cuda.Tests;

/// <summary>The engine's ops on device tensors (the CPU accelerator registered as cuda:8) against the same ops on
/// the CPU.</summary>
public sealed class DeviceOpsTests() : RegisteredAccelerator(8)
{
    private static Tensor Rand(ulong seed, params int[] shape) => Expect.Rand(seed, shape);

    /// <summary>f on the CPU and on the device (inputs moved there), under no-grad; results compared.</summary>
    private void Same(Func<Tensor[], Tensor> f, float tol, params Tensor[] inputs)
    {
        using var _ = Tensor.NoGrad();
        var cpu = f(inputs);
        var dev = f(inputs.Select(t => t.ToDevice(Gpu)).ToArray());
        Assert.Equal(Gpu, dev.Device);
        Assert.Equal(cpu.Shape, dev.Shape);
        Expect.Close(cpu.ToArray(), dev.ToArray(), tol, "y");
    }

    [Fact]
    public void ElementwiseOpsBroadcastAndViewsRunOnTheDevice()
    {
        var a = Rand(1, 2, 3, 5, 7); var b = Rand(2, 3, 1, 7);
        Same(x => x[0] + x[1], 1e-6f, a, b);
        Same(x => x[0] * x[1] - x[0] / Ops.Exp(x[1]), 1e-5f, a, b);
        Same(x => Ops.Silu(x[0]) + Ops.Gelu(x[0]) + Ops.Tanh(x[0]) + Ops.Sigmoid(x[0]) + Ops.Relu(x[0]), 1e-5f, a);
        Same(x => Ops.Sqrt(Ops.Exp(x[0])) + Ops.Log(Ops.Exp(x[0])), 1e-5f, a);
        Same(x => x[0] * 3f + 1f, 1e-6f, a);
        Same(x => x[0].Transpose(1, 3).Contiguous(), 0f, a);
        Same(x => x[0].Transpose(0, 2).Clone(), 0f, a);
    }

    [Fact]
    public void MatMulLinearSoftmaxGroupNormAndAttentionRunOnTheDevice()
    {
        Same(x => Ops.MatMul(x[0], x[1]), 1e-5f, Rand(3, 4, 9, 13), Rand(4, 4, 13, 6));
        Same(x => Ops.MatMul(x[0].Transpose(1, 2), x[1]), 1e-5f, Rand(3, 4, 13, 9), Rand(4, 4, 13, 6));
        Same(x => Ops.Linear(x[0], x[1], x[2]), 1e-5f, Rand(5, 2, 7, 10), Rand(6, 12, 10), Rand(7, 12));
        Same(x => Ops.Softmax(x[0]), 1e-5f, Rand(8, 3, 5, 37));
        Same(x => Ops.GroupNorm(x[0], 4, x[1], x[2], 1e-5f, silu: true), 1e-5f, Rand(9, 2, 8, 5, 6), Rand(10, 8),
            Rand(11, 8));
        Same(x => Ops.GroupNorm(x[0], 2, null, null), 1e-5f, Rand(12, 2, 8, 30));
        Same(x => Ops.ScaledDotProductAttention(x[0], x[1], x[2], bias: x[3]), 1e-5f, Rand(13, 2, 3, 11, 8),
            Rand(14, 2, 3, 19, 8), Rand(15, 2, 3, 19, 8), Rand(16, 1, 3, 11, 19));
    }

    [Fact]
    public void ConvolutionsConcatUpsamplingAndLayerNormRunOnTheDevice()
    {
        Same(x => Ops.Conv2d(x[0], x[1], x[2], 2, 1), 1e-4f, Rand(40, 2, 3, 9, 11), Rand(41, 5, 3, 3, 3),
            Rand(42, 5));
        Same(x => Ops.Conv2d(x[0], x[1]), 1e-4f, Rand(43, 2, 6, 4, 4), Rand(44, 3, 6, 1, 1));
        Same(x => Ops.Conv3d(x[0], x[1], x[2], 1, 1), 1e-4f, Rand(45, 1, 2, 5, 6, 7), Rand(46, 4, 2, 3, 3, 3),
            Rand(47, 4));
        Same(x => Ops.Conv1d(x[0], x[1], x[2], 1, 1), 1e-4f, Rand(48, 3, 4, 10), Rand(49, 6, 4, 3), Rand(50, 6));
        Same(x => Ops.ConvTranspose2d(x[0], x[1], x[2], 2, 1), 1e-4f, Rand(51, 2, 4, 5, 6), Rand(52, 4, 3, 4, 4),
            Rand(53, 3));
        Same(x => Ops.Concat(new[] { x[0], x[1].Transpose(1, 2) }, 1), 0f, Rand(54, 2, 3, 4), Rand(55, 2, 4, 5));
        Same(x => Ops.UpsampleNearest(x[0], 2, 2), 0f, Rand(56, 2, 3, 4, 5));
        Same(x => Ops.LayerNorm(x[0], x[1], x[2]), 1e-5f, Rand(57, 3, 7, 40), Rand(58, 40), Rand(59, 40));
        Same(x => Ops.AvgPool(x[0], 2, 2), 1e-6f, Rand(60, 2, 3, 4, 6));
        Same(x => Ops.Embedding(x[0], new[] { 4, 0, 9, 4, 2, 7 }, 2, 3), 0f, Rand(67, 10, 5));
        Same(x => Ops.Pad(x[0], new[] { 1, 2, 0, 3 }, PadMode.Constant, 0.5f), 0f, Rand(61, 2, 3, 4));
        Same(x => Ops.MatMul(x[0], x[1]), 1e-5f, Rand(62, 5, 7), Rand(63, 3, 7, 4));
        Same(x => Ops.TemporalConv(x[0], 4, x[1], x[2]), 1e-4f, Rand(64, 8, 3, 5, 5), Rand(65, 6, 3, 3), Rand(66, 6));
    }

    [Fact]
    public void ATransformerBlockGivesTheCpuResultOnTheDevice()
    {
        // Linear projections, multi-head attention over permuted heads, residual, group norm + SiLU, MLP with GELU.
        Same(x =>
        {
            var h = x[0];
            Tensor Heads(Tensor t) => t.Reshape(2, 10, 4, 8).Permute(0, 2, 1, 3);
            var att = Ops.ScaledDotProductAttention(Heads(Ops.Linear(h, x[1])), Heads(Ops.Linear(h, x[2])),
                Heads(Ops.Linear(h, x[3]))).Permute(0, 2, 1, 3).Reshape(2, 10, 32);
            h = h + att;
            h = Ops.GroupNorm(h.Transpose(1, 2).Contiguous(), 4, null, null, 1e-5f, silu: true).Transpose(1, 2);
            return h + Ops.Linear(Ops.Gelu(Ops.Linear(h, x[4], x[5])), x[6]);
        }, 1e-4f, Rand(20, 2, 10, 32), Rand(21, 32, 32) * 0.2f, Rand(22, 32, 32) * 0.2f, Rand(23, 32, 32) * 0.2f,
            Rand(24, 64, 32) * 0.2f, Rand(25, 64), Rand(26, 32, 64) * 0.2f);
    }

    [Fact]
    public void ParametersMoveToTheDeviceInPlaceAndTheirModulesFollow()
    {
        var store = new Nn.ParameterStore();
        var vb = Nn.VarBuilder.Fresh(store, 31);
        var layer = new Nn.Linear(vb.Pp("proj"), 6, 4);
        var x = Rand(32, 3, 6);
        Tensor cpu;
        using (Tensor.NoGrad()) cpu = layer.Forward(x);
        var before = store["proj.weight"].ToArray();
        store.ToDevice(Gpu);
        Assert.All(store.Named, p => Assert.Equal(Gpu, p.Value.Device));
        Tensor dev;
        using (Tensor.NoGrad()) dev = layer.Forward(x.ToDevice(Gpu));
        Assert.Equal(Gpu, dev.Device);
        var e = cpu.ToArray(); var g = dev.ToArray();
        for (int i = 0; i < e.Length; i++) Assert.True(MathF.Abs(e[i] - g[i]) <= 1e-5f * (1 + MathF.Abs(e[i])));
        store.ToDevice(Device.Cpu);
        Assert.Equal(Device.Cpu, store["proj.weight"].Device);
        Assert.Equal(before, store["proj.weight"].ToArray());
    }
}
