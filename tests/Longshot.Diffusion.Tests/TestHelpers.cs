using Longshot.Tensors.Kernels;

namespace Longshot.Diffusion.Tests;

/// <summary>Reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class Relay<T>(Action<T> f) : IProgress<T>
{
    public void Report(T value) => f(value);
}

/// <summary>
/// Selects the built-in GEMM until disposed: bit-exactness across batch sizes is promised for it (an external BLAS
/// may round differently). Tests using it belong to the "Serial" collection.
/// </summary>
internal sealed class BuiltinGemm : IDisposable
{
    private readonly GemmBackend _before = Gemm.Backend;

    public BuiltinGemm() => Gemm.Backend = GemmBackend.Builtin;

    public void Dispose() => Gemm.Backend = _before;
}
