namespace Longshot.Tensors.Kernels;

/// <summary>Which matrix-multiply implementation the engine uses.</summary>
public enum GemmBackend
{
    /// <summary>The C# kernel: packed panels, cache blocking, an AVX-512/AVX2 FMA micro-kernel.</summary>
    Builtin,
    /// <summary>cblas_sgemm from the system's OpenBLAS, loaded at run time.</summary>
    OpenBlas,
}

/// <summary>
/// Row-major single-precision GEMM: C = alpha * op(A) * op(B) + beta * C.
/// The backend is the built-in kernel unless LONGSHOT_GEMM=openblas (or <see cref="Backend"/> is set). With
/// OpenBLAS, every call that may use several threads goes to it, whatever the current thread limit, so a result
/// never depends on how work was scheduled (a generation unit sampled alone or beside another gives the same bits:
/// the two kernels round differently). Work that callers already spread across cores (one image or one attention
/// head per core) always runs on the built-in kernel. The built-in kernel is the default because it is as fast here
/// (docs/performance.md) and, unlike OpenBLAS, can be limited to a worker's share of the cores.
/// </summary>
public static unsafe class Gemm
{
    private static GemmBackend _backend = ChooseDefault();

    /// <summary>The backend in use. Setting OpenBlas when the library is absent throws.</summary>
    public static GemmBackend Backend
    {
        get => _backend;
        set
        {
            if (value == GemmBackend.OpenBlas && !OpenBlas.IsAvailable)
                throw new InvalidOperationException("OpenBLAS is not installed (apt-get install " +
                    "libopenblas0-pthread); the built-in GEMM is used instead.");
            _backend = value;
        }
    }

    /// <summary>True when OpenBLAS was found and can be selected.</summary>
    public static bool OpenBlasAvailable => OpenBlas.IsAvailable;

    /// <summary>Where OpenBLAS was loaded from, or null.</summary>
    public static string? OpenBlasPath => OpenBlas.LibraryPath;

    /// <summary>The built-in kernel's instruction set: Avx512, Avx2 or Scalar.</summary>
    public static string SimdLevel => GemmBuiltin.Level.ToString();

    private static GemmBackend ChooseDefault()
    {
        var env = Environment.GetEnvironmentVariable("LONGSHOT_GEMM")?.Trim().ToLowerInvariant();
        if (env is null or "" or "builtin") return GemmBackend.Builtin;
        if (env != "openblas") throw new LongshotException($"LONGSHOT_GEMM must be builtin or openblas, got '{env}'.");
        if (!OpenBlas.IsAvailable)
            throw new LongshotException("LONGSHOT_GEMM=openblas but OpenBLAS could not be loaded (apt-get install " +
                "libopenblas0-pthread).");
        return GemmBackend.OpenBlas;
    }

    /// <summary>
    /// C[m x n] = alpha * op(A) * op(B) + beta * C. Leading dimensions are row strides.
    /// <paramref name="parallel"/> false keeps the call on the current thread with the built-in kernel (for callers
    /// that already split work across cores; OpenBLAS cannot be limited to one thread per call).
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, bool parallel = true)
    {
        if (m <= 0 || n <= 0) return;
        // The kernel is chosen by the call site alone, never by the current thread limit: the same computation must
        // give the same bits whether it ran alone or beside another worker.
        if (_backend == GemmBackend.OpenBlas && parallel)
        {
            OpenBlas.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        GemmBuiltin.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel ? Threads.Count : 1);
    }

    /// <summary>Array overload with element offsets.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc,
            bool parallel = true)
    {
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            Sgemm(transA, transB, m, n, k, alpha, pa + aOff, lda, pb + bOff, ldb, beta, pc + cOff, ldc, parallel);
    }
}
