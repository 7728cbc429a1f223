using System.Diagnostics;
using Longshot.Tensors;
using Longshot.Tensors.Cuda;
using Longshot.Tensors.Devices;

namespace Longshot.Bench;

/// <summary>
/// The CUDA backend on a GPU (or, with --cpu-accelerator, on ILGPU's CPU accelerator at small sizes, to check the
/// bench itself): the engine's device ops against the CPU (largest relative error per op) and the tiled GEMM's
/// GFLOP/s.
/// </summary>
internal static class CudaBench
{
    public static bool CpuAccelerator { get; set; }

    private static CudaBackend Open()
    {
        var gpu = CpuAccelerator ? GpuDevice.OpenCpuAccelerator() : GpuDevice.OpenCuda();
        return CudaBackend.Register(gpu, 0);
    }

    private static string Name(CudaBackend be) => CpuAccelerator ? "cpu-accelerator" : "cuda";

    /// <summary>Largest |device - cpu| / (1 + |cpu|) of one op on random inputs (reported in parts per
    /// million).</summary>
    private static double Error(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        using var _ = Tensor.NoGrad();
        var cpu = f(inputs).ToArray();
        var dev = f(inputs.Select(t => t.ToDevice(Device.Cuda(0))).ToArray()).ToArray();
        return cpu.Zip(dev, (c, d) => Math.Abs(c - d) / (1 + Math.Abs(c))).Max();
    }

    public static void Parity()
    {
        var be = Open();
        var rng = new Rng(7);
        Tensor R(params int[] s) => Tensor.Randn(rng, s);
        int s = CpuAccelerator ? 1 : 4; // sizes scale on a GPU
        var cases = new (string Name, Func<Tensor[], Tensor> F, Tensor[] Inputs)[]
        {
            ("matmul", x => Ops.MatMul(x[0], x[1]), new[] { R(4, 64 * s, 96), R(4, 96, 80 * s) }),
            ("linear", x => Ops.Linear(x[0], x[1], x[2]), new[] { R(2, 40 * s, 64), R(128, 64), R(128) }),
            ("softmax", x => Ops.Softmax(x[0]), new[] { R(64 * s, 300) }),
            ("groupnorm-silu", x => Ops.GroupNorm(x[0], 8, x[1], x[2], 1e-5f, silu: true),
                new[] { R(2, 64, 16, 16 * s), R(64), R(64) }),
            ("conv2d", x => Ops.Conv2d(x[0], x[1], x[2], 1, 1), new[] { R(2, 32, 16, 16 * s), R(64, 32, 3, 3), R(64) }),
            ("attention", x => Ops.ScaledDotProductAttention(x[0], x[1], x[2], bias: x[3]),
                new[] { R(2, 4, 64 * s, 32), R(2, 4, 80 * s, 32), R(2, 4, 80 * s, 32), R(1, 4, 64 * s, 80 * s) }),
            ("gelu", x => Ops.Gelu(x[0]), new[] { R(100_000 * s) }),
        };
        foreach (var (name, f, inputs) in cases) Report.Emit("cuda", $"parity {name}", Name(be),
            Error(f, inputs) * 1e6, "ppm");
        DeviceBackends.Unregister(be.Device);
        be.Gpu.Dispose();
    }

    public static void Gemm()
    {
        var be = Open();
        var rng = new Rng(8);
        foreach (int n in CpuAccelerator ? new[] { 128 } : new[] { 1024, 4096 })
        {
            var a = Tensor.Randn(rng, n, n).ToDevice(be.Device);
            var b = Tensor.Randn(rng, n, n).ToDevice(be.Device);
            using var _ = Tensor.NoGrad();
            Ops.MatMul(a, b); // warm-up: loads and compiles the kernel
            be.Gpu.Accelerator.Synchronize();
            int reps = CpuAccelerator ? 1 : 10;
            var sw = Stopwatch.StartNew();
            Tensor? c = null;
            for (int i = 0; i < reps; i++) c = Ops.MatMul(a, b);
            be.Gpu.Accelerator.Synchronize();
            double secs = sw.Elapsed.TotalSeconds / reps;
            Report.Emit("cuda", $"gemm-tiled n={n}", Name(be), 2.0 * n * n * n / secs / 1e9, "GFLOP/s");
            GC.KeepAlive(c);
        }
        DeviceBackends.Unregister(be.Device);
        be.Gpu.Dispose();
    }
}
