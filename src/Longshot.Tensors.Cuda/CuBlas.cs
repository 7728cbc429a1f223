using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Longshot.Tensors.Cuda;

/// <summary>How cuBLAS multiplies float32 matrices: exact float32, or on tensor cores with inputs rounded to TF32 or
/// bfloat16 (float32 accumulation and output either way).</summary>
public enum GemmPrecision { Fp32, Tf32, Bf16 }

/// <summary>
/// NVIDIA's cuBLAS, bound by P/Invoke when its library is present (it comes with the CUDA toolkit, not the driver):
/// row-major GEMM on an ILGPU CUDA accelerator's buffers and stream, so it orders with the kernels. The backend uses
/// it for GEMM when <see cref="TryOpen"/> finds it and keeps its tiled kernel otherwise.
/// </summary>
public sealed unsafe class CuBlas : IDisposable
{
    private static readonly string[] Names =
        { "libcublas.so.12", "libcublas.so.11", "libcublas.so", "cublas64_12.dll" };

    // cublasOperation_t, cudaDataType_t, cublasComputeType_t and cublasGemmAlgo_t values from cublas_api.h.
    private const int OpN = 0, OpT = 1, R32F = 0, Compute32FFastBf16 = 75, Compute32FFastTf32 = 77, GemmDefault = -1;

    private readonly IntPtr _library, _handle;
    private readonly delegate* unmanaged<IntPtr, int> _destroy;
    private readonly delegate* unmanaged<IntPtr, int, int, int, int, int, float*, IntPtr, int, IntPtr, int, float*,
        IntPtr, int, int> _sgemm;
    private readonly delegate* unmanaged<IntPtr, int, int, int, int, int, void*, IntPtr, int, int, IntPtr, int, int,
        void*, IntPtr, int, int, int, int, int> _gemmEx;

    /// <summary>How float32 GEMMs run (default <see cref="GemmPrecision.Fp32"/>: the CPU's results within float
    /// rounding).</summary>
    public GemmPrecision Precision { get; set; }

    /// <summary>The library file that was loaded.</summary>
    public string Library { get; }

    private CuBlas(IntPtr library, string name, IntPtr handle)
    {
        _library = library;
        Library = name;
        _handle = handle;
        _destroy = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "cublasDestroy_v2");
        _sgemm = (delegate* unmanaged<IntPtr, int, int, int, int, int, float*, IntPtr, int, IntPtr, int, float*, IntPtr,
            int, int>)NativeLibrary.GetExport(library, "cublasSgemm_v2");
        _gemmEx = (delegate* unmanaged<IntPtr, int, int, int, int, int, void*, IntPtr, int, int, IntPtr, int, int,
            void*, IntPtr, int, int, int, int, int>)NativeLibrary.GetExport(library, "cublasGemmEx");
    }

    /// <summary>cuBLAS on <paramref name="accelerator"/>'s default stream, or null when the accelerator is not CUDA
    /// or no cuBLAS library loads (LONGSHOT_CUBLAS=0 also turns it off).</summary>
    public static CuBlas? TryOpen(Accelerator accelerator)
    {
        if (accelerator is not CudaAccelerator cuda || Environment.GetEnvironmentVariable("LONGSHOT_CUBLAS") == "0")
            return null;
        foreach (var name in Names)
        {
            if (!NativeLibrary.TryLoad(name, out var lib)) continue;
            if (!NativeLibrary.TryGetExport(lib, "cublasCreate_v2", out var create)
                || !NativeLibrary.TryGetExport(lib, "cublasSetStream_v2", out var setStream)
                || !NativeLibrary.TryGetExport(lib, "cublasGemmEx", out _))
            {
                NativeLibrary.Free(lib);
                continue;
            }
            IntPtr handle;
            if (((delegate* unmanaged<IntPtr*, int>)create)(&handle) != 0)
            {
                NativeLibrary.Free(lib);
                return null;
            }
            var stream = ((CudaStream)cuda.DefaultStream).StreamPtr;
            ((delegate* unmanaged<IntPtr, IntPtr, int>)setStream)(handle, stream);
            return new CuBlas(lib, name, handle);
        }
        return null;
    }

    /// <summary>
    /// C = alpha op(A) op(B) + beta C for row-major matrices at the views' starts (A m x k, B k x n, C m x n before
    /// the transposes). cuBLAS is column-major: a row-major C is a column-major C^T = op(B)^T op(A)^T, so the
    /// operands are passed swapped.
    /// </summary>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ArrayView<float> a,
        ArrayView<float> b, float beta, ArrayView<float> c)
    {
        IntPtr pa = a.LoadEffectiveAddressAsPtr(), pb = b.LoadEffectiveAddressAsPtr(),
            pc = c.LoadEffectiveAddressAsPtr();
        int lda = transA ? m : k, ldb = transB ? k : n;
        int status = Precision == GemmPrecision.Fp32
            ? _sgemm(_handle, transB ? OpT : OpN, transA ? OpT : OpN, n, m, k, &alpha, pb, ldb, pa, lda, &beta, pc, n)
            : _gemmEx(_handle, transB ? OpT : OpN, transA ? OpT : OpN, n, m, k, &alpha, pb, R32F, ldb, pa, R32F, lda,
                &beta, pc, R32F, n, Precision == GemmPrecision.Tf32 ? Compute32FFastTf32 : Compute32FFastBf16,
                GemmDefault);
        if (status != 0)
            throw new LongshotException($"cuBLAS GEMM {m}x{k} by {k}x{n} failed with status {status} ({Library}).");
    }

    public void Dispose()
    {
        _destroy(_handle);
        NativeLibrary.Free(_library);
    }
}
