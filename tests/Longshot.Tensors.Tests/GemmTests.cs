using Longshot.Tensors.Kernels;
using Xunit;

namespace Longshot.Tensors.Tests;

public unsafe class GemmTests
{
    private static float[] Naive(bool ta, bool tb, int m, int n, int k, float alpha, float[] a, int lda, float[] b,
        int ldb, float beta, float[] c0, int ldc)
    {
        var c = (float[])c0.Clone();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = (float)(alpha * s + (beta == 0 ? 0 : beta * c0[i * ldc + j]));
            }
        return c;
    }

    public static IEnumerable<object[]> Shapes()
    {
        foreach (var isa in Enum.GetValues<GemmBuiltin.Isa>().Where(i => i <= GemmBuiltin.Level))
            foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 33, 5), (13, 17, 300), (150, 70, 9), (6, 32, 256),
                (37, 2100, 3) })
                foreach (var ta in new[] { false, true })
                    foreach (var tb in new[] { false, true })
                        yield return new object[] { (int)isa, m, n, k, ta, tb };
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BuiltinMatchesNaiveProduct(int isaLevel, int m, int n, int k, bool ta, bool tb)
    {
        var isa = (GemmBuiltin.Isa)isaLevel;
        var rng = new Rng((ulong)(m * 31 + n * 7 + k));
        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
        var a = new float[(ta ? k : m) * lda]; var b = new float[(tb ? n : k) * ldb]; var c = new float[m * ldc];
        rng.FillNormal(a); rng.FillNormal(b); rng.FillNormal(c);
        var expect = Naive(ta, tb, m, n, k, 0.7f, a, lda, b, ldb, 0.5f, c, ldc);
        foreach (int threads in new[] { 1, 2 })
        {
            var got = (float[])c.Clone();
            fixed (float* pa = a, pb = b, pc = got)
                GemmBuiltin.Sgemm(ta, tb, m, n, k, 0.7f, pa, lda, pb, ldb, 0.5f, pc, ldc, threads, isa);
            for (int i = 0; i < got.Length; i++)
                Assert.True(MathF.Abs(got[i] - expect[i]) <= 1e-3f * (1 + MathF.Abs(expect[i])),
                    $"{isa} threads={threads}: element {i} is {got[i]}, expected {expect[i]}");
        }
    }

    /// <summary>Reading A in place or packed runs the same arithmetic: the results agree to the bit.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadingAInPlaceGivesTheSameBitsAsPackingIt(bool ta)
    {
        var rng = new Rng(5);
        int m = 157, n = 70, k = 300, lda = (ta ? m : k) + 1;
        var a = new float[(ta ? k : m) * lda]; var b = new float[k * n]; rng.FillNormal(a); rng.FillNormal(b);
        int before = GemmBuiltin.DirectAMaxColumns;
        try
        {
            foreach (var isa in Enum.GetValues<GemmBuiltin.Isa>().Where(i => i <= GemmBuiltin.Level))
            {
                var packed = new float[m * n]; var direct = new float[m * n];
                fixed (float* pa = a, pb = b, p1 = packed, p2 = direct)
                {
                    GemmBuiltin.DirectAMaxColumns = 0;
                    GemmBuiltin.Sgemm(ta, false, m, n, k, 0.7f, pa, lda, pb, n, 0f, p1, n, 1, isa);
                    GemmBuiltin.DirectAMaxColumns = int.MaxValue;
                    GemmBuiltin.Sgemm(ta, false, m, n, k, 0.7f, pa, lda, pb, n, 0f, p2, n, 1, isa);
                }
                Assert.Equal(packed, direct);
            }
        }
        finally { GemmBuiltin.DirectAMaxColumns = before; }
    }

    /// <summary>With beta = 0 the first depth block overwrites C (no clearing pass): later blocks must add to it, edge
    /// tiles included, and nothing already in C may leak in.</summary>
    [Theory]
    [MemberData(nameof(IsaAndTransposes))]
    public void BetaZeroOverwritesOnceAndAddsTheRestOfTheDepth(int isaLevel, bool ta, bool tb)
    {
        var isa = (GemmBuiltin.Isa)isaLevel;
        var rng = new Rng(11);
        int m = 13, n = 150, k = 600, lda = ta ? m : k, ldb = tb ? k : n;
        var a = new float[m * k]; var b = new float[k * n]; rng.FillNormal(a); rng.FillNormal(b);
        var expect = Naive(ta, tb, m, n, k, 0.7f, a, lda, b, ldb, 0f, new float[m * n], n);
        foreach (int threads in new[] { 1, 2 })
        {
            var got = Enumerable.Repeat(float.NaN, m * n).ToArray();
            fixed (float* pa = a, pb = b, pc = got)
                GemmBuiltin.Sgemm(ta, tb, m, n, k, 0.7f, pa, lda, pb, ldb, 0f, pc, n, threads, isa);
            for (int i = 0; i < got.Length; i++)
                Assert.True(MathF.Abs(got[i] - expect[i]) <= 1e-3f * (1 + MathF.Abs(expect[i])),
                    $"{isa} threads={threads}: element {i} is {got[i]}, expected {expect[i]}");
        }
    }

    public static IEnumerable<object[]> IsaAndTransposes() =>
        from isa in Enum.GetValues<GemmBuiltin.Isa>().Where(i => i <= GemmBuiltin.Level)
        from ta in new[] { false, true }
        from tb in new[] { false, true }
        select new object[] { (int)isa, ta, tb };

    [Fact]
    public void BetaZeroIgnoresNaNsInTheOutput()
    {
        var a = new float[] { 1, 2 }; var b = new float[] { 3, 4 }; var c = new float[] { float.NaN };
        Gemm.Sgemm(false, false, 1, 1, 2, 1f, a, 0, 2, b, 0, 1, 0f, c, 0, 1);
        Assert.Equal(11f, c[0]);
    }

    [Fact]
    public void OpenBlasAgreesWithBuiltinWhenInstalled()
    {
        if (!OpenBlasExpected()) return; // nothing to compare on machines without the library
        var rng = new Rng(9);
        int m = 65, n = 129, k = 257;
        var a = new float[m * k]; var b = new float[k * n]; rng.FillNormal(a); rng.FillNormal(b);
        var c1 = new float[m * n]; var c2 = new float[m * n];
        fixed (float* pa = a, pb = b, p1 = c1, p2 = c2)
        {
            GemmBuiltin.Sgemm(false, true, m, n / 2, k, 1f, pa, k, pb, k, 0f, p1, n, 2);
            OpenBlas.Sgemm(false, true, m, n / 2, k, 1f, pa, k, pb, k, 0f, p2, n);
        }
        for (int i = 0; i < c1.Length; i++) Assert.True(MathF.Abs(c1[i] - c2[i]) < 1e-3f,
            $"element {i}: {c1[i]} vs {c2[i]}");
    }

    /// <summary>True when OpenBLAS is installed; in CI (CI=true), where .ci/run installs it, its absence
    /// fails.</summary>
    internal static bool OpenBlasExpected()
    {
        if (OpenBlas.IsAvailable) return true;
        if (Environment.GetEnvironmentVariable("CI") == "true")
            throw new InvalidOperationException("OpenBLAS must be installed in CI (.ci/run installs " +
                "libopenblas0-pthread).");
        return false;
    }
}

/// <summary>The GEMM's dispatch; it switches the process-wide backend, so it runs alone.</summary>
[Collection("Serial")]
public class GemmDispatchTests
{
    [Fact]
    public void TheKernelDoesNotDependOnTheThreadLimit()
    {
        // A generation unit sampled alone (all threads) or beside another (one thread each) must give the same bits.
        var rng = new Rng(4);
        int m = 96, n = 80, k = 200;
        var a = new float[m * k]; var b = new float[k * n]; rng.FillNormal(a); rng.FillNormal(b);
        var backends = new List<GemmBackend> { GemmBackend.Builtin };
        if (GemmTests.OpenBlasExpected()) backends.Add(GemmBackend.OpenBlas);
        var before = Gemm.Backend;
        try
        {
            foreach (var backend in backends)
            {
                Gemm.Backend = backend;
                var all = new float[m * n]; var one = new float[m * n];
                Gemm.Sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, all, 0, n);
                using (Threads.LimitTo(1)) Gemm.Sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, one, 0, n);
                Assert.Equal(all, one);
            }
        }
        finally { Gemm.Backend = before; }
    }
}
