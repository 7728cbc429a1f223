namespace Longshot.Tensors.Kernels;

/// <summary>
/// C = alpha * op(A) * op(B) + beta * C with A and B stored as bfloat16 (half the bytes of float32) and float32
/// arithmetic: K is walked in blocks of the built-in kernel's depth; each block of A and B is widened to float32 in
/// scratch (exact) and multiplied by the float32 kernel, accumulating into float32 C. .NET 10 has no intrinsic for
/// AVX512_BF16's dot products, so on this CPU bfloat16 saves memory and bandwidth, not arithmetic (the widening costs
/// a little). The result equals the built-in float32 kernel's on the widened matrices.
/// </summary>
public static unsafe class GemmBf16
{
    /// <summary>Depth of one widened block: the built-in kernel's, so the float32 accumulation order is
    /// its.</summary>
    public const int Block = 256;

    [ThreadStatic] private static float[]? _scratch;

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ushort* a, int lda,
        ushort* b, int ldb, float beta, float* c, int ldc, bool parallel = true)
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0) { GemmBuiltin.ScaleC(m, n, beta, c, ldc); return; }
        int depth = Math.Min(Block, k);
        long need = (long)depth * (m + n);
        if (_scratch == null || _scratch.Length < need)
            _scratch = GC.AllocateUninitializedArray<float>((int)need, true);
        fixed (float* scratch = _scratch)
        {
            float* wa = scratch, wb = scratch + (long)depth * m;
            for (int p0 = 0; p0 < k; p0 += Block)
            {
                int kb = Math.Min(Block, k - p0);
                // op(A) block: m x kb (row-major, ld kb), or A's kb x m rows when transposed (ld m).
                if (!transA) for (int i = 0; i < m; i++) Bf16.ToFloat(a + (long)i * lda + p0, wa + (long)i * kb, kb);
                else for (int p = 0; p < kb; p++) Bf16.ToFloat(a + (long)(p0 + p) * lda, wa + (long)p * m, m);
                if (!transB) for (int p = 0; p < kb; p++) Bf16.ToFloat(b + (long)(p0 + p) * ldb, wb + (long)p * n, n);
                else for (int j = 0; j < n; j++) Bf16.ToFloat(b + (long)j * ldb + p0, wb + (long)j * kb, kb);
                GemmBuiltin.Sgemm(transA, transB, m, n, kb, alpha, wa, transA ? m : kb, wb, transB ? kb : n,
                    p0 == 0 ? beta : 1f, c, ldc, parallel ? Threads.Count : 1);
            }
        }
    }
}
