using ILGPU;

namespace Longshot.Tensors.Cuda.Kernels;

/// <summary>Sizes and layout of one row-major C = alpha op(A) op(B) + beta C.</summary>
public struct GemmShape
{
    public int M, N, K;
    /// <summary>1: A is stored [K, M] (op(A) = A^T); 0: [M, K].</summary>
    public int TransA;
    /// <summary>1: B is stored [N, K] (op(B) = B^T); 0: [K, N].</summary>
    public int TransB;
    public float Alpha, Beta;
}

/// <summary>
/// The tiled GEMM used when cuBLAS is absent: each group of Tile x Tile threads computes a tile of C, walking K
/// through tiles of A and B staged in shared memory.
/// </summary>
internal static class GemmKernels
{
    public const int Tile = 16;

    public static void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s)
    {
        var ta = SharedMemory.Allocate<float>(Tile * Tile);
        var tb = SharedMemory.Allocate<float>(Tile * Tile);
        int tx = Group.IdxX, ty = Group.IdxY;
        int row = Grid.IdxY * Tile + ty, col = Grid.IdxX * Tile + tx;
        float acc = 0;
        for (int k0 = 0; k0 < s.K; k0 += Tile)
        {
            int ka = k0 + tx, kb = k0 + ty;
            ta[ty * Tile + tx] = row < s.M && ka < s.K
                ? (s.TransA == 1 ? a[ka * s.M + row] : a[row * s.K + ka]) : 0f;
            tb[ty * Tile + tx] = kb < s.K && col < s.N
                ? (s.TransB == 1 ? b[col * s.K + kb] : b[kb * s.N + col]) : 0f;
            Group.Barrier();
            for (int k = 0; k < Tile; k++) acc += ta[ty * Tile + k] * tb[k * Tile + tx];
            Group.Barrier();
        }
        if (row < s.M && col < s.N)
        {
            int i = row * s.N + col;
            c[i] = s.Beta == 0 ? s.Alpha * acc : s.Alpha * acc + s.Beta * c[i];
        }
    }

    /// <summary>
    /// One thread per element of C, no shared memory or barriers: what the backend runs on ILGPU's CPU accelerator,
    /// where every barrier of the tiled kernel costs milliseconds (a 16-channel 32 x 32 convolution took seconds).
    /// The tiled kernel is tested against the CPU on its own; on a GPU it (or cuBLAS) does the work.
    /// </summary>
    public static void Direct(Index2D at, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s)
    {
        int col = at.X, row = at.Y;
        float acc = 0;
        for (int k = 0; k < s.K; k++)
            acc += (s.TransA == 1 ? a[k * s.M + row] : a[row * s.K + k])
                * (s.TransB == 1 ? b[col * s.K + k] : b[k * s.N + col]);
        int i = row * s.N + col;
        c[i] = s.Beta == 0 ? s.Alpha * acc : s.Alpha * acc + s.Beta * c[i];
    }
}
