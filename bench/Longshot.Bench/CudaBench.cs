using System.Diagnostics;
using Longshot.Tensors;
using Longshot.Tensors.Cuda;
using Longshot.Tensors.Cuda.Kernels;
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

    private static CudaBackend Open(int ordinal = 0)
    {
        var gpu = CpuAccelerator ? GpuDevice.OpenCpuAccelerator() : GpuDevice.OpenCuda(ordinal);
        return CudaBackend.Register(gpu, ordinal);
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

    /// <summary>
    /// GEMM TFLOP/s on <paramref name="device"/> (the gemm case with --device): the tiled kernel, and cuBLAS in
    /// float32, TF32 and bfloat16 when its library is present, with cuBLAS float32's largest difference from the tiled
    /// kernel's product.
    /// </summary>
    public static void Gemm(Device device)
    {
        var be = Open(device.Ordinal);
        var gpu = be.Gpu;
        var rng = new Rng(8);
        foreach (int n in CpuAccelerator ? new[] { 128 } : new[] { 1024, 4096 })
        {
            using var a = gpu.Upload(Tensor.Randn(rng, n * n).ToArray());
            using var b = gpu.Upload(Tensor.Randn(rng, n * n).ToArray());
            using var c = gpu.Zeros((long)n * n);
            var contenders = new List<(string Name, Action Run)>
            {
                ("tiled", (Action)(() => gpu.Kernels.Gemm(a.View, b.View, c.View, new GemmShape { M = n, N = n, K = n,
                    Alpha = 1 }))),
            };
            if (gpu.Blas is { } blas)
                foreach (var p in Enum.GetValues<GemmPrecision>())
                    contenders.Add(($"cublas-{p.ToString().ToLowerInvariant()}", (Action)(() =>
                    {
                        blas.Precision = p;
                        blas.Gemm(false, false, n, n, n, 1f, a.View, b.View, 0f, c.View);
                    })));
            var products = new Dictionary<string, float[]>();
            foreach (var (name, run) in contenders)
            {
                run(); // warm-up: loads and compiles the kernel, picks cuBLAS's algorithm
                products[name] = gpu.Download(c);
                int reps = CpuAccelerator ? 1 : 10;
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < reps; i++) run();
                gpu.Accelerator.Synchronize();
                double secs = sw.Elapsed.TotalSeconds / reps;
                Report.Emit("cuda", $"gemm n={n}", CpuAccelerator ? $"cpu-accelerator {name}" : name,
                    2.0 * n * n * n / secs / 1e12, "TFLOP/s");
            }
            if (products.TryGetValue("cublas-fp32", out var cublas))
                Report.Emit("cuda", $"gemm n={n} cublas-fp32 vs tiled", "cuda",
                    cublas.Zip(products["tiled"], (x, y) => Math.Abs(x - y) / (1 + Math.Abs(y))).Max() * 1e6, "ppm");
        }
        DeviceBackends.Unregister(be.Device);
        gpu.Dispose();
    }
}
