using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Longshot.Tensors.Kernels;

/// <summary>
/// The built-in GEMM (BLIS-style): B is packed into KC x NR panels, A into MR-row panels (or read in place when C is
/// narrow), and a register-blocked FMA micro-kernel computes MR x NR tiles of C.
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

    /// <summary>Up to this many columns of C, full 6-row panels of A are read in place instead of packed: few column
    /// panels reuse a packed A too little to pay for the copy (docs/performance.md, "GEMM"). Tests move it to compare
    /// both paths.</summary>
    internal static int DirectAMaxColumns = 128;

    /// <summary>How a micro-kernel writes its tile: add alpha times it to C, overwrite C with alpha times it (the
    /// first block of a product with beta = 0, so C is never cleared first), or store the raw sums (edge
    /// tiles).</summary>
    private enum Write { Add, Overwrite, Raw }

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
        // With beta = 0 the first KC block overwrites C instead of adding to a cleared C: one pass over C saved, and
        // the same values (alpha * sum rounds once either way).
        bool overwrite = beta == 0f && k > 0 && alpha != 0f;
        if (!overwrite) ScaleC(m, n, beta, c, ldc);
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
                        OffsetB((float*)pb, transB, ldb, start), ldb, (float*)pc + start, ldc, overwrite, isa);
                    else Serial(transA, transB, end - start, n, k, alpha, OffsetA((float*)pa, transA, lda, start), lda,
                        (float*)pb, ldb, (float*)pc + (long)start * ldc, ldc, overwrite, isa);
                });
                return;
            }
        }
        Serial(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc, overwrite, isa);
    }

    private static float* OffsetB(float* b, bool transB, int ldb, int col) => transB ? b + (long)col * ldb : b + col;
    private static float* OffsetA(float* a, bool transA, int lda, int row) => transA ? a + row : a + (long)row * lda;

    private static void Serial(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool overwrite, Isa isa)
    {
        int nr = NrFor(isa);
        // 16 floats of slack so the panels can start on a 64-byte line (full-width loads never straddle two lines).
        var packA = _packA ??= GC.AllocateUninitializedArray<float>(MC * KC + 16, pinned: true);
        var packB = _packB ??= GC.AllocateUninitializedArray<float>(KC * (NC + 32) + 16, pinned: true);
        float* tile = stackalloc float[MR * 32];
        // Packed A panels hold each of their MR rows contiguously (row-major A: plain row copies) or each k-step's MR
        // values together (transposed A: plain column copies), so packing is a copy and the kernel streams one block.
        // Narrow products read full panels of A in place instead; only a last partial panel is packed (zero rows).
        bool directA = n <= DirectAMaxColumns;
        fixed (float* pA0 = packA, pB0 = packB)
        {
            float* pA = AlignLine(pA0), pB = AlignLine(pB0);
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    var write = overwrite && pc == 0 ? Write.Overwrite : Write.Add;
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
                                // Element (r, p) of the panel is ap[r * rs + p * ks].
                                bool inPlace = directA && mrr == MR;
                                float* ap = inPlace ? OffsetA(a, transA, lda, ic + ir) + (transA ? (long)pc * lda : pc)
                                    : pA + (long)ir * kc;
                                int rs = inPlace ? (transA ? 1 : lda) : (transA ? 1 : kc);
                                int ks = inPlace ? (transA ? lda : 1) : (transA ? MR : 1);
                                float* cp = c + (long)(ic + ir) * ldc + jc + jr;
                                if (mrr == MR && nrr == nr) Kernel(isa, kc, ap, rs, ks, bp, cp, ldc, alpha, write);
                                else EdgeTile(isa, kc, ap, rs, ks, bp, tile, nr, cp, ldc, mrr, nrr, alpha, write);
                            }
                        }
                    }
                }
            }
        }
    }

    private static float* AlignLine(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    /// <summary>A partial tile: the kernel's raw sums go to a scratch tile, then the valid part into C.</summary>
    private static void EdgeTile(Isa isa, int kc, float* ap, int rs, int ks, float* bp, float* tile, int nr, float* cp,
        int ldc, int mrr, int nrr, float alpha, Write write)
    {
        Kernel(isa, kc, ap, rs, ks, bp, tile, nr, 0f, Write.Raw);
        // Round exactly as the full-tile kernels do (fused on SIMD paths), so an element's value does not depend on
        // where tile boundaries fall (batching, thread split).
        for (int i = 0; i < mrr; i++)
            for (int j = 0; j < nrr; j++)
            {
                ref float cij = ref cp[(long)i * ldc + j];
                float t = tile[i * nr + j];
                cij = write == Write.Overwrite ? t * alpha
                    : isa == Isa.Scalar ? cij + alpha * t : MathF.FusedMultiplyAdd(t, alpha, cij);
            }
    }

    /// <summary>Packs rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into MR-row panels of MR x kc values, zero-padded:
    /// row-major A as MR contiguous rows (element (r, p) at r * kc + p), transposed A k-step by k-step (at p * MR +
    /// r). Both are straight copies from where A lies.</summary>
    private static void PackA(bool transA, float* a, int lda, int i0, int mc, int p0, int kc, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int rows = Math.Min(MR, mc - ir);
            float* d = dst + (long)ir * kc;
            if (!transA)
            {
                for (int r = 0; r < MR; r++)
                {
                    var row = new Span<float>(d + (long)r * kc, kc);
                    if (r < rows) new ReadOnlySpan<float>(a + (long)(i0 + ir + r) * lda + p0, kc).CopyTo(row);
                    else row.Clear();
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
                // Whole 16 x 16 blocks are transposed in registers; the columns and depths left over go one by one.
                int fullJ = Transpose16.IsSupported ? cols & ~15 : 0, fullP = kc & ~15;
                for (int j = 0; j < fullJ; j += 16)
                    for (int p = 0; p < fullP; p += 16)
                        Transpose16.Block(b + (long)(j0 + jr + j) * ldb + p0 + p, ldb, d + (long)p * nr + j, nr);
                for (int j = 0; j < cols; j++)
                {
                    float* src = b + (long)(j0 + jr + j) * ldb + p0;
                    float* dj = d + j;
                    for (int p = j < fullJ ? fullP : 0; p < kc; p++) dj[p * nr] = src[p];
                }
            }
        }
    }

    /// <summary>C[MR x NR] (+)= alpha * A * Bpanel as <paramref name="write"/> says; A's element (r, p) is a[r * rs +
    /// p * ks].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(Isa isa, int kc, float* a, int rs, int ks, float* b, float* c, int ldc, float alpha,
        Write write)
    {
        switch (isa)
        {
            case Isa.Avx512: Kernel512(kc, a, rs, ks, b, c, ldc, alpha, write); break;
            case Isa.Avx2: Kernel256(kc, a, rs, ks, b, c, ldc, alpha, write); break;
            default: KernelScalar(kc, a, rs, ks, b, c, ldc, alpha, write); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512(int kc, float* a, nint rs, nint ks, float* b, float* c, nint ldc, float alpha,
        Write write)
    {
        // The C tile is read only after the loop: asking for its lines now hides the miss behind the FMAs.
        if (write == Write.Add)
            for (int i = 0; i < MR; i++)
            {
                Sse.Prefetch0(c + i * ldc);
                Sse.Prefetch0(c + i * ldc + 16);
            }
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        // Two row pointers and two index offsets (base + index addressing) instead of six pointers to advance.
        float* a3 = a + 3 * rs;
        nint rs2 = 2 * rs;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[rs]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[rs2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[0]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a3[rs]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a3[rs2]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            a += ks; a3 += ks; b += 32;
        }
        var al = Vector512.Create(alpha);
        Put512(write, c, c00, c01, al); c += ldc;
        Put512(write, c, c10, c11, al); c += ldc;
        Put512(write, c, c20, c21, al); c += ldc;
        Put512(write, c, c30, c31, al); c += ldc;
        Put512(write, c, c40, c41, al); c += ldc;
        Put512(write, c, c50, c51, al);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put512(Write write, float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> al)
    {
        if (write == Write.Add)
        {
            Vector512.Store(Vector512.FusedMultiplyAdd(v0, al, Vector512.Load(c)), c);
            Vector512.Store(Vector512.FusedMultiplyAdd(v1, al, Vector512.Load(c + 16)), c + 16);
        }
        else if (write == Write.Overwrite)
        {
            Vector512.Store(v0 * al, c);
            Vector512.Store(v1 * al, c + 16);
        }
        else
        {
            Vector512.Store(v0, c);
            Vector512.Store(v1, c + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(int kc, float* a, int rs, int ks, float* b, float* c, int ldc, float alpha,
        Write write)
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
        var al = Vector256.Create(alpha);
        Put256(write, c, c00, c01, al); c += ldc;
        Put256(write, c, c10, c11, al); c += ldc;
        Put256(write, c, c20, c21, al); c += ldc;
        Put256(write, c, c30, c31, al); c += ldc;
        Put256(write, c, c40, c41, al); c += ldc;
        Put256(write, c, c50, c51, al);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put256(Write write, float* c, Vector256<float> v0, Vector256<float> v1, Vector256<float> al)
    {
        if (write == Write.Add)
        {
            Vector256.Store(Vector256.FusedMultiplyAdd(v0, al, Vector256.Load(c)), c);
            Vector256.Store(Vector256.FusedMultiplyAdd(v1, al, Vector256.Load(c + 8)), c + 8);
        }
        else if (write == Write.Overwrite)
        {
            Vector256.Store(v0 * al, c);
            Vector256.Store(v1 * al, c + 8);
        }
        else
        {
            Vector256.Store(v0, c);
            Vector256.Store(v1, c + 8);
        }
    }

    private static void KernelScalar(int kc, float* a, int rs, int ks, float* b, float* c, int ldc, float alpha,
        Write write)
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
                c[j] = write switch
                {
                    Write.Raw => acc[i * nr + j],
                    Write.Overwrite => alpha * acc[i * nr + j],
                    _ => c[j] + alpha * acc[i * nr + j],
                };
    }
}
