using Longshot.Tensors.Kernels;
using Xunit;

namespace Longshot.Tensors.Tests;

[Collection("Serial")]
public class RngTests
{
    [Fact]
    public void SameSeedSameNumbersWhateverTheThreadCount()
    {
        int before = Threads.Count;
        try
        {
            Threads.Count = 1;
            var a = new float[100_003]; new Rng(42).FillNormal(a);
            Threads.Count = 2;
            var b = new float[100_003]; new Rng(42).FillNormal(b);
            Threads.Count = 7;
            var c = new float[100_003]; new Rng(42).FillNormal(c);
            Assert.Equal(a, b);
            Assert.Equal(a, c);
        }
        finally { Threads.Count = before; }
    }

    [Fact]
    public void NormalSamplesHaveUnitMoments()
    {
        var a = new float[200_000];
        new Rng(1).FillNormal(a);
        double mean = a.Average(v => (double)v), var = a.Average(v => (v - mean) * (v - mean));
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(var, 0.98, 1.02);
    }

    [Fact]
    public void UniformSamplesStayInRange()
    {
        var a = new float[10_000];
        new Rng(3).FillUniform(a, -2f, 5f);
        Assert.All(a, v => Assert.InRange(v, -2f, 5f));
        Assert.InRange(a.Average(), 1.4, 1.6);
    }

    [Fact]
    public void RestoringTheCounterReplaysTheStream()
    {
        var r = new Rng(11);
        r.FillNormal(new float[10]);
        ulong at = r.Counter;
        var first = new float[5]; r.FillNormal(first);
        var again = new Rng(11, at);
        var second = new float[5]; again.FillNormal(second);
        Assert.Equal(first, second);
    }

    [Fact]
    public void DerivedStreamsDifferAndAreStable()
    {
        var root = new Rng(5);
        var a = new float[4]; root.Derive(1, 2).FillNormal(a);
        var b = new float[4]; root.Derive(1, 3).FillNormal(b);
        var a2 = new float[4]; new Rng(5).Derive(1, 2).FillNormal(a2);
        Assert.NotEqual(a, b);
        Assert.Equal(a, a2);
    }
}
