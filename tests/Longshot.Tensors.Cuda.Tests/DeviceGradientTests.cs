using Longshot.Tensors.Devices;
using Longshot.Tensors.Optim;
using Xunit;

namespace Longshot.Tensors.Cuda.Tests;

/// <summary>Backward passes and optimizer steps on device tensors (the CPU accelerator registered as cuda:11) against
/// the same on the CPU: every op's gradient rule, the attention backward kernels at partial tiles, AdamW, the EMA and
/// gradient clipping.</summary>
public sealed class DeviceGradientTests() : RegisteredAccelerator(11)
{
    private static Tensor Rand(ulong seed, params int[] shape) => Expect.Rand(seed, shape);

    private static void Close(float[] expected, float[] actual, float tol, string what) =>
        Expect.Close(expected, actual, tol, $"{what} on the device");

    /// <summary>The gradients of sum(f(inputs) * r) for a fixed random r, on the CPU and on the device; every input's
    /// gradient compared, and the device's must stay on the device.</summary>
    private void SameGradients(Func<Tensor[], Tensor> f, float tol, params Tensor[] inputs)
    {
        var cpuIn = inputs.Select(t => t.Clone().SetRequiresGrad()).ToArray();
        var cpuOut = f(cpuIn);
        var r = Rand(999, cpuOut.Shape);
        var cpuGrads = Ops.Sum(cpuOut * r).Backward();
        var devIn = inputs.Select(t => t.ToDevice(Gpu).SetRequiresGrad()).ToArray();
        var devOut = f(devIn);
        Assert.Equal(Gpu, devOut.Device);
        var devGrads = Ops.Sum(devOut * r.ToDevice(Gpu)).Backward();
        for (int i = 0; i < inputs.Length; i++)
        {
            var g = devGrads[devIn[i]];
            Assert.Equal(Gpu, g.Device);
            Assert.Equal(inputs[i].Shape, g.Shape);
            Close(cpuGrads[cpuIn[i]].ToArray(), g.ToArray(), tol, $"input {i}");
        }
    }

    [Fact]
    public void ElementwiseReductionAndViewGradientsMatchTheCpu()
    {
        var a = Rand(1, 2, 3, 5, 7); var b = Rand(2, 3, 1, 7);
        SameGradients(x => x[0] * x[1] + x[0] / (Ops.Exp(x[1]) + 1f) - x[1], 1e-5f, a, b);
        SameGradients(x => Ops.Silu(x[0]) + Ops.Gelu(x[0]) * Ops.Tanh(x[0]) + Ops.Sigmoid(x[0]) + Ops.Relu(x[0]),
            1e-5f, a);
        SameGradients(x => Ops.Sqrt(Ops.Exp(x[0])) + Ops.Log(Ops.Exp(x[0]) + 1f) * 3f, 1e-5f, a);
        SameGradients(x => Ops.Sum(x[0], new[] { 1, 3 }, keepDim: true) * Ops.Mean(x[0], 2, keepDim: true), 1e-5f, a);
        SameGradients(x => Ops.Concat(new[] { x[0].Transpose(1, 3).Contiguous(), x[0].Narrow(3, 1, 3) * 2f }, 3),
            1e-6f, Rand(3, 2, 4, 5, 4));
        SameGradients(x => Ops.Pad(x[0], new[] { 1, 2, 0, 3 }, PadMode.Constant, 0.5f), 0f, Rand(4, 2, 3, 4));
        SameGradients(x => Ops.MseLoss(x[0], x[1]), 1e-5f, a, Rand(5, 2, 3, 5, 7));
    }

    [Fact]
    public void MatMulLinearSoftmaxNormAndEmbeddingGradientsMatchTheCpu()
    {
        SameGradients(x => Ops.MatMul(x[0], x[1].Transpose(1, 2)), 1e-5f, Rand(10, 4, 9, 13), Rand(11, 4, 6, 13));
        SameGradients(x => Ops.MatMul(x[0], x[1]), 1e-5f, Rand(12, 3, 7, 5), Rand(13, 5, 4));
        SameGradients(x => Ops.Linear(x[0], x[1], x[2]), 1e-5f, Rand(14, 2, 7, 10), Rand(15, 12, 10), Rand(16, 12));
        SameGradients(x => Ops.Softmax(x[0]), 1e-5f, Rand(17, 3, 5, 37));
        SameGradients(x => Ops.Softmax(x[0], 1), 1e-5f, Rand(18, 3, 5, 7));
        SameGradients(x => Ops.GroupNorm(x[0], 4, x[1], x[2], 1e-5f, silu: true), 1e-4f, Rand(19, 2, 8, 5, 6),
            Rand(20, 8), Rand(21, 8));
        SameGradients(x => Ops.GroupNorm(x[0], 2, null, null), 1e-4f, Rand(22, 3, 8, 30));
        SameGradients(x => Ops.LayerNorm(x[0], x[1], x[2]), 1e-4f, Rand(23, 3, 7, 40), Rand(24, 40), Rand(25, 40));
        SameGradients(x => Ops.LayerNorm(x[0], null, null), 1e-4f, Rand(26, 5, 300));
        SameGradients(x => Ops.Embedding(x[0], new[] { 4, 0, 9, 4, 2, 7, 4 }, 7), 1e-6f, Rand(27, 10, 5));
    }

    [Fact]
    public void ConvolutionAndPoolingGradientsMatchTheCpu()
    {
        SameGradients(x => Ops.Conv2d(x[0], x[1], x[2], 2, 1), 1e-4f, Rand(30, 2, 3, 9, 11), Rand(31, 5, 3, 3, 3),
            Rand(32, 5));
        SameGradients(x => Ops.Conv3d(x[0], x[1], x[2], 1, 1), 1e-4f, Rand(33, 2, 2, 4, 5, 6), Rand(34, 4, 2, 3, 3, 3),
            Rand(35, 4));
        SameGradients(x => Ops.Conv1d(x[0], x[1], null, 1, 1), 1e-4f, Rand(36, 3, 4, 10), Rand(37, 6, 4, 3));
        SameGradients(x => Ops.ConvTranspose2d(x[0], x[1], x[2], 2, 1), 1e-4f, Rand(38, 2, 4, 5, 6),
            Rand(39, 4, 3, 4, 4), Rand(40, 3));
        SameGradients(x => Ops.UpsampleNearest(x[0], 2, 3), 1e-6f, Rand(41, 2, 3, 4, 5));
        SameGradients(x => Ops.AvgPool(x[0], 2, 2), 1e-6f, Rand(42, 2, 3, 4, 6));
        SameGradients(x => Ops.TemporalConv(x[0], 4, x[1], x[2]), 1e-4f, Rand(43, 8, 3, 5, 5), Rand(44, 6, 3, 3),
            Rand(45, 6));
    }

    [Fact]
    public void AttentionBackwardMatchesTheCpuAtPartialTilesWithBiasAndMask()
    {
        // 45 queries and 37 keys: partial query groups (32) and key tiles (16); a bias broadcast over the batch whose
        // gradient is summed back, and a mask that blocks some keys.
        var mask = Tensor.FromArray(Enumerable.Range(0, 45 * 37).Select(i => i % 7 == 3 ? 0f : 1f).ToArray(),
            1, 1, 45, 37);
        SameGradients(x => Ops.ScaledDotProductAttention(x[0], x[1], x[2], mask.ToDevice(x[0].Device), x[3]), 1e-4f,
            Rand(50, 2, 3, 45, 24), Rand(51, 2, 3, 37, 24), Rand(52, 2, 3, 37, 24), Rand(53, 1, 3, 45, 37));
        SameGradients(x => Ops.ScaledDotProductAttention(x[0], x[1], x[2]), 1e-4f, Rand(54, 1, 2, 19, 64),
            Rand(55, 1, 2, 33, 64), Rand(56, 1, 2, 33, 40));
    }

    [Fact]
    public void AdamWEmaAndClippingOnTheDeviceFollowTheHost()
    {
        var w = Rand(60, 7, 5); var b = Rand(61, 5);
        var x = Rand(62, 9, 7); var target = Rand(63, 9, 5);
        (float[] W, float[] B, Dictionary<string, Tensor> Ema, Dictionary<string, Tensor> State, double Norm) Run(
            Device device)
        {
            var pw = w.Clone().ToDevice(device).SetRequiresGrad();
            var pb = b.Clone().ToDevice(device).SetRequiresGrad();
            var ps = new[] { ("w", pw), ("b", pb) };
            var opt = new AdamW(ps, 0.05f, weightDecay: 0.1f);
            var ema = new Ema(ps, 0.9f);
            double norm = 0;
            for (int step = 0; step < 3; step++)
            {
                var loss = Ops.MseLoss(Ops.MatMul(x.ToDevice(device), pw) + pb, target.ToDevice(device));
                var grads = loss.Backward();
                norm = GradClip.ClipByGlobalNorm(grads, new[] { pw, pb }, 0.5);
                opt.Step(grads);
                ema.Update(step);
            }
            Assert.Equal(device, pw.Device);
            return (pw.ToArray(), pb.ToArray(), ema.Weights(), opt.StateTensors(), norm);
        }
        var host = Run(Device.Cpu);
        var dev = Run(Gpu);
        Close(host.W, dev.W, 1e-5f, "w");
        Close(host.B, dev.B, 1e-5f, "b");
        Assert.Equal(host.Norm, dev.Norm, 4);
        foreach (var (k, t) in host.Ema) Close(t.ToArray(), dev.Ema[k].ToArray(), 1e-5f, $"ema {k}");
        Assert.Equal(host.State.Keys.Order(), dev.State.Keys.Order());
        foreach (var (k, t) in host.State) Close(t.ToArray(), dev.State[k].ToArray(), 1e-5f, k);
    }
}
