using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Longshot.Tensors.Kernels;

/// <summary>
/// The built-in GEMM (BLIS-style): B is packed into KC x NR panels, A is read in place in MR-row panels (a last partial
/// panel is packed, zero-padded), and a register-blocked FMA micro-kernel computes MR x NR tiles of C.
/// AVX-512: 6 x 32 tile (12 accumulators); AVX2: 6 x 16; otherwise a scalar kernel of the same shape.
/// Work is split across threads by columns or rows of C, so each element's sum runs in a fixed order.
/// </summary>
internal static unsafe class GemmBuiltin
{
    /// <summary>Instruction-set levels of the micro-kernel.</summary>
    public enum Isa { Scalar, Avx2, Avx512 }

    /// <summary>Instruction set in use: the best the CPU has, lowered by LONGSHOT_SIMD=avx2|scalar.</summary>
    public static readonly Isa Level = ChooseIsa();

    public const int MR = 6;

    /// <summary>Columns per micro-tile for an instruction set.</summary>
    public static int NrFor(Isa isa) => isa == Isa.Avx512 ? 32 : 16;
    private const int KC = 256, MC = 144, NC = 1024;

    /// <summary>Up to this many columns of C, full 6-row panels of A are read in place instead of packed (tests set 0
    /// to compare).</summary>
    internal static int DirectAMaxColumns = int.MaxValue;

    [ThreadStatic] private static float[]? _packA;
    [ThreadStatic] private static float[]? _packB;

    private static Isa ChooseIsa()
    {
        var env = Environment.GetEnvironmentVariable("LONGSHOT_SIMD")?.Trim().ToLowerInvariant();
        var best = Vector512.IsHardwareAccelerated ? Isa.Avx512
                 : Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported ? Isa.Avx2
                 : Isa.Scalar;
        return env switch
        {
            "scalar" => Isa.Scalar,
            "avx2" when best >= Isa.Avx2 => Isa.Avx2,
            _ => best,
        };
    }

    public static void ScaleC(int m, int n, float beta, float* c, int ldc)
    {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f) row.Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int threads)
        => Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads, Level);

    /// <summary>As above with an explicit instruction set (tests exercise every path on one machine).</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int threads, Isa isa)
    {
        if (isa > Level) throw new ArgumentException($"GEMM: {isa} is not supported on this CPU (best is {Level}).");
        int NR = NrFor(isa);
        if (m <= 0 || n <= 0) return;
        ScaleC(m, n, beta, c, ldc);
        if (k <= 0 || alpha == 0f) return;

        long flops = 2L * m * n * k;
        if (threads > 1 && flops >= 1L << 21)
        {
            // Split the larger of m and n into aligned slabs, one per thread.
            bool splitN = n >= m;
            int unit = splitN ? NR : MR, total = splitN ? n : m;
            int slabs = Math.Min(threads, (total + unit - 1) / unit);
            if (slabs > 1)
            {
                nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
                int units = (total + unit - 1) / unit;
                Parallel.For(0, slabs, new ParallelOptions { MaxDegreeOfParallelism = slabs }, s =>
                {
                    int u0 = units * s / slabs, u1 = units * (s + 1) / slabs;
                    int start = u0 * unit, end = Math.Min(total, u1 * unit);
                    if (end <= start) return;
                    if (splitN) Serial(transA, transB, m, end - start, k, alpha, (float*)pa, lda,
                        OffsetB((float*)pb, transB, ldb, start), ldb, (float*)pc + start, ldc, isa);
                    else Serial(transA, transB, end - start, n, k, alpha, OffsetA((float*)pa, transA, lda, start), lda,
                        (float*)pb, ldb, (float*)pc + (long)start * ldc, ldc, isa);
                });
                return;
            }
        }
        Serial(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc, isa);
    }

    private static float* OffsetB(float* b, bool transB, int ldb, int col) => transB ? b + (long)col * ldb : b + col;
    private static float* OffsetA(float* a, bool transA, int lda, int row) => transA ? a + row : a + (long)row * lda;

    private static void Serial(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float* c, int ldc, Isa isa)
    {
        int nr = NrFor(isa);
        var packA = _packA ??= GC.AllocateUninitializedArray<float>(MC * KC, pinned: true);
        var packB = _packB ??= GC.AllocateUninitializedArray<float>(KC * (NC + 32), pinned: true);
        float* tile = stackalloc float[MR * 32];
        // The micro-kernel reads full 6-row panels of A where they lie; only a last partial panel is packed (zero
        // padding). Packing A cost as much as multiplying it when C has few columns (linear layers with 32-128
        // outputs),
        // and reading in place was never slower on the shapes measured (docs/performance.md, "GEMM"). Same arithmetic
        // either way, same bits.
        bool directA = n <= DirectAMaxColumns;
        fixed (float* pA = packA, pB = packB)
        {
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    PackB(transB, b, ldb, pc, kc, jc, nc, pB, nr);
                    for (int ic = 0; ic < m; ic += MC)
                    {
                        int mc = Math.Min(MC, m - ic), tail = mc % MR;
                        if (!directA) PackA(transA, a, lda, ic, mc, pc, kc, pA);
                        else if (tail > 0) PackA(transA, a, lda, ic + mc - tail, tail, pc, kc,
                            pA + (long)(mc - tail) * kc);
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int nrr = Math.Min(nr, nc - jr);
                            float* bp = pB + (long)jr * kc;
                            for (int ir = 0; ir < mc; ir += MR)
                            {
                                int mrr = Math.Min(MR, mc - ir);
                                // A full panel read in place (direct) or from the packed buffer: element (r, p) at ap[r
                                // * rs + p * ks].
                                bool inPlace = directA && mrr == MR;
                                float* ap = inPlace ? OffsetA(a, transA, lda, ic + ir) + (transA ? (long)pc * lda : pc)
                                    : pA + (long)ir * kc;
                                int rs = inPlace ? (transA ? 1 : lda) : 1, ks = inPlace ? (transA ? lda : 1) : MR;
                                float* cp = c + (long)(ic + ir) * ldc + jc + jr;
                                if (mrr == MR && nrr == nr) Kernel(isa, kc, ap, rs, ks, bp, cp, ldc, alpha);
                                else
                                {
                                    Kernel(isa, kc, ap, rs, ks, bp, tile, nr, 0f, store: true);
                                    // Round exactly as the full-tile kernels do (fused on SIMD paths), so an element's
                                    // value does not depend on where tile boundaries fall (batching, thread split).
                                    for (int i = 0; i < mrr; i++)
                                        for (int j = 0; j < nrr; j++)
                                        {
                                            ref float cij = ref cp[(long)i * ldc + j];
                                            cij = isa == Isa.Scalar ? cij + alpha * tile[i * nr + j]
                                                : MathF.FusedMultiplyAdd(tile[i * nr + j], alpha, cij);
                                        }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Packs rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into MR-row panels, k-major, zero-padded.</summary>
    private static void PackA(bool transA, float* a, int lda, int i0, int mc, int p0, int kc, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int rows = Math.Min(MR, mc - ir);
            float* d = dst + (long)ir * kc;
            if (!transA)
            {
                if (rows == MR)
                {
                    float* r0 = a + (long)(i0 + ir) * lda + p0, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda,
                        r4 = r3 + lda, r5 = r4 + lda;
                    for (int p = 0; p < kc; p++, d += MR)
                    {
                        d[0] = r0[p]; d[1] = r1[p]; d[2] = r2[p]; d[3] = r3[p]; d[4] = r4[p]; d[5] = r5[p];
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++, d += MR)
                        for (int r = 0; r < MR; r++) d[r] = r < rows ? a[(long)(i0 + ir + r) * lda + p0 + p] : 0f;
                }
            }
            else
            {
                for (int p = 0; p < kc; p++, d += MR)
                {
                    float* src = a + (long)(p0 + p) * lda + i0 + ir;
                    for (int r = 0; r < MR; r++) d[r] = r < rows ? src[r] : 0f;
                }
            }
        }
    }

    /// <summary>Packs rows [p0, p0+kc) x cols [j0, j0+nc) of op(B) into NR-column panels, k-major,
    /// zero-padded.</summary>
    private static void PackB(bool transB, float* b, int ldb, int p0, int kc, int j0, int nc, float* dst, int nr)
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* d = dst + (long)jr * kc;
            if (!transB)
            {
                float* src = b + (long)p0 * ldb + j0 + jr;
                if (cols == nr)
                {
                    if (nr == 32)
                        for (int p = 0; p < kc; p++, src += ldb, d += 32)
                        {
                            Vector512.Store(Vector512.Load(src), d);
                            Vector512.Store(Vector512.Load(src + 16), d + 16);
                        }
                    else
                        for (int p = 0; p < kc; p++, src += ldb, d += nr)
                            new ReadOnlySpan<float>(src, nr).CopyTo(new Span<float>(d, nr));
                }
                else
                {
                    for (int p = 0; p < kc; p++, src += ldb, d += nr)
                        for (int j = 0; j < nr; j++) d[j] = j < cols ? src[j] : 0f;
                }
            }
            else
            {
                if (cols < nr) new Span<float>(d, kc * nr).Clear();
                for (int j = 0; j < cols; j++)
                {
                    float* src = b + (long)(j0 + jr + j) * ldb + p0;
                    float* dj = d + j;
                    for (int p = 0; p < kc; p++) dj[p * nr] = src[p];
                }
            }
        }
    }

    /// <summary>C[MR x NR] += alpha * A * Bpanel (or = when store is set); A's element (r, p) is a[r * rs + p *
    /// ks].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(Isa isa, int kc, float* a, int rs, int ks, float* b, float* c, int ldc, float alpha,
        bool store = false)
    {
        switch (isa)
        {
            case Isa.Avx512: Kernel512(kc, a, rs, ks, b, c, ldc, alpha, store); break;
            case Isa.Avx2: Kernel256(kc, a, rs, ks, b, c, ldc, alpha, store); break;
            default: KernelScalar(kc, a, rs, ks, b, c, ldc, alpha, store); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512(int kc, float* a, int rs, int ks, float* b, float* c, int ldc, float alpha,
        bool store)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* a1 = a + rs, a2 = a1 + rs, a3 = a2 + rs, a4 = a3 + rs, a5 = a4 + rs;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(*a1);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(*a2);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(*a3);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(*a4);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(*a5);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            a += ks; a1 += ks; a2 += ks; a3 += ks; a4 += ks; a5 += ks; b += 32;
        }
        var al = Vector512.Create(alpha);
        if (store)
        {
            Vector512.Store(c00, c); Vector512.Store(c01, c + 16); c += ldc;
            Vector512.Store(c10, c); Vector512.Store(c11, c + 16); c += ldc;
            Vector512.Store(c20, c); Vector512.Store(c21, c + 16); c += ldc;
            Vector512.Store(c30, c); Vector512.Store(c31, c + 16); c += ldc;
            Vector512.Store(c40, c); Vector512.Store(c41, c + 16); c += ldc;
            Vector512.Store(c50, c); Vector512.Store(c51, c + 16);
            return;
        }
        Acc512(c, c00, c01, al); c += ldc;
        Acc512(c, c10, c11, al); c += ldc;
        Acc512(c, c20, c21, al); c += ldc;
        Acc512(c, c30, c31, al); c += ldc;
        Acc512(c, c40, c41, al); c += ldc;
        Acc512(c, c50, c51, al);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Acc512(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> al)
    {
        Vector512.Store(Vector512.FusedMultiplyAdd(v0, al, Vector512.Load(c)), c);
        Vector512.Store(Vector512.FusedMultiplyAdd(v1, al, Vector512.Load(c + 16)), c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(int kc, float* a, int rs, int ks, float* b, float* c, int ldc, float alpha,
        bool store)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* a1 = a + rs, a2 = a1 + rs, a3 = a2 + rs, a4 = a3 + rs, a5 = a4 + rs;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(*a1);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(*a2);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(*a3);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(*a4);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(*a5);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            a += ks; a1 += ks; a2 += ks; a3 += ks; a4 += ks; a5 += ks; b += 16;
        }
        var acc = new[] { c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 };
        var al = Vector256.Create(alpha);
        for (int i = 0; i < MR; i++, c += ldc)
        {
            if (store) { Vector256.Store(acc[2 * i], c); Vector256.Store(acc[2 * i + 1], c + 8); }
            else
            {
                Vector256.Store(Vector256.FusedMultiplyAdd(acc[2 * i], al, Vector256.Load(c)), c);
                Vector256.Store(Vector256.FusedMultiplyAdd(acc[2 * i + 1], al, Vector256.Load(c + 8)), c + 8);
            }
        }
    }

    private static void KernelScalar(int kc, float* a, int rs, int ks, float* b, float* c, int ldc, float alpha,
        bool store)
    {
        const int nr = 16;
        float* acc = stackalloc float[MR * nr];
        new Span<float>(acc, MR * nr).Clear();
        for (int p = 0; p < kc; p++, a += ks, b += nr)
            for (int i = 0; i < MR; i++)
            {
                float x = a[i * rs];
                float* row = acc + i * nr;
                for (int j = 0; j < nr; j++) row[j] += x * b[j];
            }
        for (int i = 0; i < MR; i++, c += ldc)
            for (int j = 0; j < nr; j++)
                c[j] = store ? acc[i * nr + j] : c[j] + alpha * acc[i * nr + j];
    }
}
