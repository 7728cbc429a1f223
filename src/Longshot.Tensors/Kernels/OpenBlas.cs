using System.Runtime.InteropServices;

namespace Longshot.Tensors.Kernels;

/// <summary>cblas_sgemm from Debian's OpenBLAS, resolved at run time so nothing breaks when it is absent.</summary>
internal static unsafe class OpenBlas
{
    private static readonly delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int,
        float, float*, int, void> SgemmPtr;

    /// <summary>Where the library was found, or null.</summary>
    public static readonly string? LibraryPath;

    public static bool IsAvailable => SgemmPtr != null;

    static OpenBlas()
    {
        string[] candidates =
        {
            "libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "libopenblas.so",
            "libopenblas.dylib",
        };
        foreach (var name in candidates)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            if (NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var fn))
            {
                SgemmPtr = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int,
                    float, float*, int, void>)fn;
                LibraryPath = name;
                return;
            }
        }
    }

    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (k == 0)
        {
            // BLAS leaves C scaled by beta when k is 0; keep the built-in semantics (no NaN from 0 * garbage).
            GemmBuiltin.ScaleC(m, n, beta, c, ldc);
            return;
        }
        SgemmPtr(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
            ldc);
    }
}
