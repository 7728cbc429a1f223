using Longshot.Diffusion.Families;
using Longshot.Diffusion.Svd;
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

    /// <summary>
    /// `published-unet --device cuda`: Stable Video Diffusion's UNet at real size (the random fp16 folder of the
    /// `published` case, widened onto the device) at 14 frames x 32x32 latents and at the published 25 frames x
    /// 72x128 (576x1024 video); the second of two calls is reported. With --cpu-accelerator, a small random config at
    /// 2 frames of 4x4 latents instead (a check of the case itself).
    /// </summary>
    public static void PublishedUnet()
    {
        var be = Open();
        SvdUnet unet;
        (int Frames, int H, int W)[] shapes;
        if (CudaBench.CpuAccelerator)
        {
            unet = SvdUnet.Random(new SvdUnetConfig
            {
                BlockOutChannels = new[] { 32, 64 }, AdditionTimeEmbedDim = 8, CrossAttentionDim = new[] { 16 },
                DownBlockTypes = new[] { "CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal" },
                UpBlockTypes = new[] { "UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal" },
                LayersPerBlock = new[] { 1 }, NumAttentionHeads = new[] { 2, 4 }, NumFrames = 3,
                ProjectionClassEmbeddingsInputDim = 24,
            }, 1);
            shapes = new[] { (2, 4, 4) };
        }
        else
        {
            if (!File.Exists(Path.Combine(PublishedBench.Folder, "diffusion_pytorch_model.fp16.safetensors")))
                PublishedBench.RunSelf("published-prepare");
            unet = ModelFamilies.Load<SvdUnet>(PublishedBench.Folder);
            shapes = new[] { (14, 32, 32), (25, 72, 128) };
        }
        unet.Parameters.ToDevice(Device);
        var rng = new Rng(0);
        int contextDim = unet.Config.CrossAttentionDim[0];
        using var _ = Tensor.NoGrad();
        foreach (var (frames, h, w) in shapes)
        {
            var sample = Randn(rng, 1, frames, unet.Config.InChannels, h, w);
            var context = Randn(rng, 1, 1, contextDim);
            var ids = Tensor.FromArray(new[] { 6f, 127f, 0.02f }, 1, 3).ToDevice(Device);
            var seconds = new List<double>();
            for (int call = 0; call < 2; call++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                unet.Forward(sample, 0.75f, context, ids);
                be.Gpu.Accelerator.Synchronize();
                seconds.Add(sw.Elapsed.TotalSeconds);
            }
            Report.Emit("published", $"svd-unet-{frames}f-{h}x{w}", Label(be), seconds[^1] * 1e3, "ms");
            Report.Emit("published", $"svd-unet-{frames}f-{h}x{w}-first-call", Label(be), seconds[0] * 1e3, "ms");
        }
    }
}
