using Longshot.Tensors;
using Longshot.Tensors.Cuda;
using Longshot.Tensors.Devices;

namespace Longshot.Bench;

/// <summary>
/// The conv, attention and mtd cases with <c>--device cuda[:N]</c>: the same shapes as the CPU cases, every tensor on
/// the device, each timed call waited for. With --cpu-accelerator they run on ILGPU's CPU accelerator at small sizes
/// (a check of the bench itself, not a figure).
/// </summary>
internal static class DeviceBench
{
    /// <summary>The device the device cases run on.</summary>
    public static Device Device { get; set; } = Device.Cuda(0);

    private static CudaBackend Open()
    {
        if (CudaBench.CpuAccelerator && !DeviceBackends.IsRegistered(Device))
            CudaBackend.Register(GpuDevice.OpenCpuAccelerator(), Device.Ordinal);
        CudaBackend.EnsureRegistered(Device);
        return (CudaBackend)DeviceBackends.For(Device);
    }

    private static string Label(CudaBackend be) => CudaBench.CpuAccelerator ? "cpu-accelerator" : be.Device.ToString();

    /// <summary>Seconds per call of <paramref name="f"/>, the device waited for after each.</summary>
    private static double Time(CudaBackend be, Action f, double minSeconds = 2) =>
        Report.Time(() => { f(); be.Gpu.Accelerator.Synchronize(); }, warmup: 1, minSeconds: minSeconds,
            minReps: CudaBench.CpuAccelerator ? 1 : 3);

    private static Tensor Randn(Rng rng, params int[] shape) => Tensor.Randn(rng, shape).ToDevice(Device);

    public static void Conv()
    {
        var be = Open();
        var rng = new Rng(2);
        int n = CudaBench.CpuAccelerator ? 2 : 32, c = CudaBench.CpuAccelerator ? 16 : 128, hw = 32;
        var x = Randn(rng, n, c, hw, hw).SetRequiresGrad();
        var w = Randn(rng, c, c, 3, 3).SetRequiresGrad();
        var b = Randn(rng, c).SetRequiresGrad();
        double flops = 2.0 * n * c * c * 9 * hw * hw;
        double fwd;
        using (Tensor.NoGrad()) fwd = Time(be, () => Ops.Conv2d(x, w, b, padding: 1));
        var y = Ops.Conv2d(x, w, b, padding: 1);
        var g = Tensor.Ones(y.Shape).ToDevice(Device);
        double bwd = Time(be, () => y.Backward(g));
        string shape = $"3x3 N={n} C={c} {hw}x{hw}";
        Report.Emit("conv", $"{shape} forward", Label(be), flops / fwd / 1e9, "GFLOP/s");
        Report.Emit("conv", $"{shape} backward", Label(be), 2 * flops / bwd / 1e9, "GFLOP/s");
    }

    public static void Attention()
    {
        var be = Open();
        var rng = new Rng(3);
        foreach (int len in CudaBench.CpuAccelerator ? new[] { 64 } : new[] { 256, 1024 })
        {
            var q = Randn(rng, 8, 8, len, 64).SetRequiresGrad();
            var k = Randn(rng, 8, 8, len, 64).SetRequiresGrad();
            var v = Randn(rng, 8, 8, len, 64).SetRequiresGrad();
            double fwd;
            using (Tensor.NoGrad()) fwd = Time(be, () => Ops.ScaledDotProductAttention(q, k, v));
            Report.Emit("attention", $"BH=64 d=64 L={len} forward", Label(be), fwd * 1e3, "ms");
            var y = Ops.ScaledDotProductAttention(q, k, v);
            var g = Tensor.Ones(y.Shape).ToDevice(Device);
            double bwd = Time(be, () => y.Backward(g));
            Report.Emit("attention", $"BH=64 d=64 L={len} backward", Label(be), bwd * 1e3, "ms");
        }
    }

    /// <summary>The mtd case's training step (UNet + text encoder, AdamW) and sampling call on the device.</summary>
    public static void Mtd()
    {
        var be = Open();
        var (_, step, forward, shape) = MtdBench.Setup(Device, 2, CudaBench.CpuAccelerator);
        Report.Emit("mtd", $"train step {shape}", Label(be), Time(be, () => step(), 5) * 1e3, "ms");
        Report.Emit("mtd", $"UNet forward {shape} (one sampling call, no guidance)", Label(be),
            Time(be, forward) * 1e3, "ms");
    }

    /// <summary>Two training steps of the mtd case's model on the CPU and on the device from the same weights and
    /// noise: the losses' and the updated weights' largest differences.</summary>
    public static void TrainParity()
    {
        var be = Open();
        var cpu = MtdBench.Setup(Device.Cpu, 3, CudaBench.CpuAccelerator);
        var dev = MtdBench.Setup(Device, 3, CudaBench.CpuAccelerator);
        double loss = 0;
        for (int i = 0; i < 2; i++)
        {
            float a = cpu.Step(), b = dev.Step();
            loss = Math.Max(loss, Math.Abs(a - b) / (1 + Math.Abs(a)));
        }
        double weights = 0;
        foreach (var (name, t) in cpu.Parts.Parameters.Named)
            weights = Math.Max(weights, t.ToArray().Zip(dev.Parts.Parameters[name].ToArray(), (x, y) => Math.Abs(x - y))
                .Max());
        Report.Emit("cuda", "train parity: loss, 2 steps", Label(be), loss * 1e6, "ppm");
        Report.Emit("cuda", "train parity: largest weight difference after 2 AdamW steps (lr 2e-4)", Label(be),
            weights * 1e6, "x 1e-6");
    }
}
