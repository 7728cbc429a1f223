using Longshot.Tensors.Kernels;
using Xunit;

namespace Longshot.Tensors.Tests;

public unsafe class Transpose16Tests
{
    [Fact]
    public void TheRegisterTransposeMatchesTheScalarOne()
    {
        if (!Transpose16.IsSupported) return; // AVX-512 only; the GEMM packs element by element elsewhere
        var rng = new Rng(3);
        const int lds = 21, ldd = 32;
        var src = new float[16 * lds]; rng.FillNormal(src);
        var expect = new float[16 * ldd]; var got = new float[16 * ldd];
        Array.Fill(expect, -7f); Array.Fill(got, -7f);
        fixed (float* ps = src, pe = expect, pg = got)
        {
            Transpose16.Reference(ps, lds, pe, ldd);
            Transpose16.Block(ps, lds, pg, ldd);
        }
        Assert.Equal(expect, got);
        Assert.Equal(src[3 * lds + 11], got[11 * ldd + 3]);
    }
}
