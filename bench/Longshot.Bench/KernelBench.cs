using System.Diagnostics;
using Longshot.Tensors;
using Longshot.Tensors.Kernels;
using Longshot.Tensors.Nn;
using Longshot.Tensors.Optim;

namespace Longshot.Bench;

/// <summary>Convolution, attention, group norm and the reference network.</summary>
internal static class KernelBench
{
    public static void Conv()
    {
        var rng = new Rng(2);
        int n = 32, c = 128, hw = 32;
        var x = Tensor.Randn(rng, n, c, hw, hw).SetRequiresGrad();
        var w = Tensor.Randn(rng, c, c, 3, 3).SetRequiresGrad();
        var b = Tensor.Randn(rng, c).SetRequiresGrad();
        double flops = 2.0 * n * c * c * 9 * hw * hw;
        var backends = GemmBench.Backends().ToList();
        double[] fwd;
        using (Tensor.NoGrad())
            fwd = Report.TimeInterleaved(backends.Select(be =>
                (Action)(() => { Gemm.Backend = be; Ops.Conv2d(x, w, b, padding: 1); })).ToList());
        var y = Ops.Conv2d(x, w, b, padding: 1);
        var g = Tensor.Ones(y.Shape);
        var bwd = Report.TimeInterleaved(backends.Select(be => (Action)(() => { Gemm.Backend = be; y.Backward(g); }))
            .ToList());
        for (int i = 0; i < backends.Count; i++)
        {
            Report.Emit("conv", "3x3 N=32 C=128 32x32 forward", GemmBench.Name(backends[i]), flops / fwd[i] / 1e9,
                "GFLOP/s");
            // Backward = input gradient + weight gradient: twice the forward's FLOPs. With OpenBLAS selected, only
            // calls that use every core go to it; per-image GEMMs stay on the built-in kernel.
            Report.Emit("conv", "3x3 N=32 C=128 32x32 backward", GemmBench.Name(backends[i]), 2 * flops / bwd[i] / 1e9,
                "GFLOP/s");
        }
        Gemm.Backend = GemmBench.Default;
    }

    /// <summary>`conv-svd`: Stable Video Diffusion's 3 x 3 convolutions at 14 frames of 32x32 latents (320, 640 and
    /// 1,280 channels at 32x32, 16x16, 8x8 and 4x4), forward without a graph, built-in GEMM, ms per call.</summary>
    public static void ConvSvd()
    {
        var rng = new Rng(2);
        using var _ = Tensor.NoGrad();
        foreach (var (c, hw) in new[] { (320, 32), (640, 16), (1280, 8), (1280, 4) })
        {
            var x = Tensor.Randn(rng, 14, c, hw, hw);
            var w = Tensor.Randn(rng, c, c, 3, 3);
            var b = Tensor.Randn(rng, c);
            double seconds = Report.Time(() => Ops.Conv2d(x, w, b, padding: 1), minSeconds: 3);
            Report.Emit("conv-svd", $"3x3 N=14 C={c} {hw}x{hw} forward", "builtin", seconds * 1e3, "ms");
        }
    }

    public static void Attention()
    {
        var rng = new Rng(3);
        foreach (int len in new[] { 256, 1024 })
        {
            var q = Tensor.Randn(rng, 8, 8, len, 64).SetRequiresGrad();
            var k = Tensor.Randn(rng, 8, 8, len, 64).SetRequiresGrad();
            var v = Tensor.Randn(rng, 8, 8, len, 64).SetRequiresGrad();
            double fwd;
            using (Tensor.NoGrad()) fwd = Report.Time(() => Ops.ScaledDotProductAttention(q, k, v));
            Report.Emit("attention", $"BH=64 d=64 L={len} forward", "builtin", fwd * 1e3, "ms");
            var y = Ops.ScaledDotProductAttention(q, k, v);
            var g = Tensor.Ones(y.Shape);
            double bwd = Report.Time(() => y.Backward(g));
            Report.Emit("attention", $"BH=64 d=64 L={len} backward", "builtin", bwd * 1e3, "ms");
        }
    }

    public static void GroupNorm()
    {
        var rng = new Rng(4);
        var x = Tensor.Randn(rng, 32, 128, 32, 32);
        var gamma = Tensor.Ones(128); var beta = Tensor.Zeros(128);
        double bytes = 2.0 * x.Numel * 4; // read once, write once
        double plain = Report.Time(() => Ops.GroupNorm(x, 32, gamma, beta));
        Report.Emit("groupnorm", "N=32 C=128 32x32 G=32", "builtin", bytes / plain / 1e9, "GB/s");
        double fused = Report.Time(() => Ops.GroupNorm(x, 32, gamma, beta, silu: true));
        Report.Emit("groupnorm", "N=32 C=128 32x32 G=32 +SiLU fused", "builtin", bytes / fused / 1e9, "GB/s");
        double separate = Report.Time(() => Ops.Silu(Ops.GroupNorm(x, 32, gamma, beta)));
        Report.Emit("groupnorm", "N=32 C=128 32x32 G=32 +SiLU separate", "builtin", bytes / separate / 1e9, "GB/s");
    }

    public static void RefNet()
    {
        foreach (var backend in GemmBench.Backends())
        {
            Gemm.Backend = backend;
            var store = new ParameterStore();
            var net = new RefNet(VarBuilder.Fresh(store, 7));
            var rng = new Rng(5);
            var x = Tensor.Randn(rng, 32, 4, 16, 16);
            var opt = new AdamW(store.Trainable, 1e-4f, weightDecay: 0.01f);
            double step = Report.Time(() =>
            {
                var loss = Ops.MseLoss(net.Forward(x), x);
                opt.Step(loss.Backward());
            }, warmup: 2, minSeconds: 5);
            Report.Emit("refnet", "train step (fwd+bwd+AdamW)", GemmBench.Name(backend), step * 1e3, "ms");
            double fwd;
            using (Tensor.NoGrad()) fwd = Report.Time(() => net.Forward(x), minSeconds: 3);
            Report.Emit("refnet", "forward (no grad)", GemmBench.Name(backend), fwd * 1e3, "ms");
        }
        Gemm.Backend = GemmBench.Default;
    }

    /// <summary>500 training steps; resident memory sampled every 50 steps should stay flat.</summary>
    public static void RefNetMemory()
    {
        var store = new ParameterStore();
        var net = new RefNet(VarBuilder.Fresh(store, 7));
        var x = Tensor.Randn(new Rng(5), 32, 4, 16, 16);
        var opt = new AdamW(store.Trainable, 1e-4f, weightDecay: 0.01f);
        var proc = Process.GetCurrentProcess();
        double first = 0;
        for (int s = 1; s <= 500; s++)
        {
            var loss = Ops.MseLoss(net.Forward(x), x);
            opt.Step(loss.Backward());
            if (s % 50 == 0)
            {
                proc.Refresh();
                double mb = proc.WorkingSet64 / 1e6;
                if (s == 50) first = mb;
                Report.Emit("refnet-memory", $"rss after step {s} (loss {loss.Item():F4})",
                    GemmBench.Name(Gemm.Backend), mb, "MB");
            }
        }
        proc.Refresh();
        Report.Emit("refnet-memory", "rss growth steps 50..500", GemmBench.Name(Gemm.Backend),
            proc.WorkingSet64 / 1e6 - first, "MB");
    }
}
