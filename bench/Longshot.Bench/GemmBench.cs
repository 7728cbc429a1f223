using Longshot.Tensors;
using Longshot.Tensors.Kernels;

namespace Longshot.Bench;

/// <summary>GFLOP/s of square SGEMM for the built-in kernel and OpenBLAS in the same run.</summary>
internal static class GemmBench
{
    public static void Run()
    {
        var rng = new Rng(1);
        foreach (int n in new[] { 256, 512, 1024, 2048 })
        {
            var a = Tensor.Randn(rng, n, n).ToArray(); var b = Tensor.Randn(rng, n, n)
                .ToArray(); var c = new float[n * n];
            var backends = Backends().ToList();
            var runs = backends.Select(backend => (Action)(() =>
            {
                Gemm.Backend = backend;
                Gemm.Sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
            })).ToList();
            var secs = Report.TimeInterleaved(runs, n >= 2048 ? 1.0 : 0.5);
            for (int i = 0; i < backends.Count; i++)
                Report.Emit("gemm", $"n={n}", Name(backends[i]), 2.0 * n * n * n / secs[i] / 1e9, "GFLOP/s");
        }
        Gemm.Backend = Default;
    }

    public static IEnumerable<GemmBackend> Backends()
    {
        yield return GemmBackend.Builtin;
        if (Gemm.OpenBlasAvailable) yield return GemmBackend.OpenBlas;
    }

    /// <summary>The backend the engine picked on start-up.</summary>
    public static readonly GemmBackend Default = Gemm.Backend;

    public static string Name(GemmBackend b) => b == GemmBackend.Builtin ? "builtin" : "openblas";
}
