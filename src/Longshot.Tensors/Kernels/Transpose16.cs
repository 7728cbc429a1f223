using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Longshot.Tensors.Kernels;

/// <summary>
/// Transposes 16 x 16 blocks of floats in AVX-512 registers: 16 loads, four rounds of 16 shuffles, 16 stores, where
/// an element-by-element copy costs 256 loads and 256 strided stores. The GEMM uses it to pack a transposed B (a
/// linear layer's weight, attention's keys) into column panels. <see cref="Reference"/> is the scalar definition.
/// </summary>
internal static unsafe class Transpose16
{
    /// <summary>Whether <see cref="Block"/> can run on this CPU.</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>dst[c * ldd + r] = src[r * lds + c] for r, c in [0, 16).</summary>
    public static void Reference(float* src, long lds, float* dst, long ldd)
    {
        for (int r = 0; r < 16; r++)
            for (int c = 0; c < 16; c++) dst[c * ldd + r] = src[r * lds + c];
    }

    /// <summary>The same as <see cref="Reference"/>, in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block(float* src, long lds, float* dst, long ldd)
    {
        // Round 1: interleave 32-bit elements of row pairs; round 2: 64-bit pairs of those. Each 128-bit lane then
        // holds a transposed 4 x 4 block; rounds 3 and 4 move the lanes into place.
        var r0 = Vector512.Load(src); var r1 = Vector512.Load(src + lds);
        var r2 = Vector512.Load(src + 2 * lds); var r3 = Vector512.Load(src + 3 * lds);
        var r4 = Vector512.Load(src + 4 * lds); var r5 = Vector512.Load(src + 5 * lds);
        var r6 = Vector512.Load(src + 6 * lds); var r7 = Vector512.Load(src + 7 * lds);
        var r8 = Vector512.Load(src + 8 * lds); var r9 = Vector512.Load(src + 9 * lds);
        var r10 = Vector512.Load(src + 10 * lds); var r11 = Vector512.Load(src + 11 * lds);
        var r12 = Vector512.Load(src + 12 * lds); var r13 = Vector512.Load(src + 13 * lds);
        var r14 = Vector512.Load(src + 14 * lds); var r15 = Vector512.Load(src + 15 * lds);

        var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
        var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
        var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
        var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);

        r0 = Lo64(t0, t2); r1 = Hi64(t0, t2); r2 = Lo64(t1, t3); r3 = Hi64(t1, t3);
        r4 = Lo64(t4, t6); r5 = Hi64(t4, t6); r6 = Lo64(t5, t7); r7 = Hi64(t5, t7);
        r8 = Lo64(t8, t10); r9 = Hi64(t8, t10); r10 = Lo64(t9, t11); r11 = Hi64(t9, t11);
        r12 = Lo64(t12, t14); r13 = Hi64(t12, t14); r14 = Lo64(t13, t15); r15 = Hi64(t13, t15);

        // 0x88 takes lanes 0 and 2 of each source, 0xDD lanes 1 and 3.
        t0 = Avx512F.Shuffle4x128(r0, r4, 0x88); t1 = Avx512F.Shuffle4x128(r1, r5, 0x88);
        t2 = Avx512F.Shuffle4x128(r2, r6, 0x88); t3 = Avx512F.Shuffle4x128(r3, r7, 0x88);
        t4 = Avx512F.Shuffle4x128(r0, r4, 0xDD); t5 = Avx512F.Shuffle4x128(r1, r5, 0xDD);
        t6 = Avx512F.Shuffle4x128(r2, r6, 0xDD); t7 = Avx512F.Shuffle4x128(r3, r7, 0xDD);
        t8 = Avx512F.Shuffle4x128(r8, r12, 0x88); t9 = Avx512F.Shuffle4x128(r9, r13, 0x88);
        t10 = Avx512F.Shuffle4x128(r10, r14, 0x88); t11 = Avx512F.Shuffle4x128(r11, r15, 0x88);
        t12 = Avx512F.Shuffle4x128(r8, r12, 0xDD); t13 = Avx512F.Shuffle4x128(r9, r13, 0xDD);
        t14 = Avx512F.Shuffle4x128(r10, r14, 0xDD); t15 = Avx512F.Shuffle4x128(r11, r15, 0xDD);

        Vector512.Store(Avx512F.Shuffle4x128(t0, t8, 0x88), dst);
        Vector512.Store(Avx512F.Shuffle4x128(t1, t9, 0x88), dst + ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t2, t10, 0x88), dst + 2 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t3, t11, 0x88), dst + 3 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t4, t12, 0x88), dst + 4 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t5, t13, 0x88), dst + 5 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t6, t14, 0x88), dst + 6 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t7, t15, 0x88), dst + 7 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t0, t8, 0xDD), dst + 8 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t1, t9, 0xDD), dst + 9 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t2, t10, 0xDD), dst + 10 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t3, t11, 0xDD), dst + 11 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t4, t12, 0xDD), dst + 12 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t5, t13, 0xDD), dst + 13 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t6, t14, 0xDD), dst + 14 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(t7, t15, 0xDD), dst + 15 * ldd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo64(Vector512<float> a, Vector512<float> b) =>
        Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi64(Vector512<float> a, Vector512<float> b) =>
        Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();
}
