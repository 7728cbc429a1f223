using Xunit;
using Longshot.Eval.Metrics;
using Longshot.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace Longshot.Eval.Tests;

public class FrechetDistanceTests
{
    private static GaussianStats Stats(double[] mean, double[,] cov) =>
        new(Vector<double>.Build.DenseOfArray(mean), Matrix<double>.Build.DenseOfArray(cov), 1000);

    [Fact]
    public void OneDimensionalGaussiansMatchTheClosedForm()
    {
        // W2^2 between N(m1, s1^2) and N(m2, s2^2) is (m1 - m2)^2 + (s1 - s2)^2.
        var d = FrechetDistance.Compute(Stats(new[] { 1.0 }, new[,] { { 4.0 } }),
            Stats(new[] { -2.0 }, new[,] { { 9.0 } }));
        Assert.Equal(9 + 1, d, 9);
    }

    [Fact]
    public void NonDiagonalCommutingCovariancesMatchTheClosedForm()
    {
        // S2 = 4 S1 (they commute): tr(S1 + S2 - 2 (S1 S2)^(1/2)) = tr(S1 + 4 S1 - 4 S1) = tr(S1).
        var s1 = new[,] { { 2.0, 0.5, 0.1 }, { 0.5, 1.0, 0.2 }, { 0.1, 0.2, 0.7 } };
        var s2 = new double[3, 3];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) s2[i, j] = 4 * s1[i, j];
        var d = FrechetDistance.Compute(Stats(new[] { 0.0, 1, 2 }, s1), Stats(new[] { 1.0, 1, 0 }, s2));
        Assert.Equal(1 + 0 + 4 + (2 + 1 + 0.7), d, 9);
    }

    [Fact]
    public void IdenticalSetsScoreZeroEvenWhenCovarianceIsSingular()
    {
        // 5 samples in 8 dimensions: the covariance has rank 4, which scipy's sqrtm handles badly.
        var rng = new Rng(3);
        var rows = Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 8).Select(_ => rng.NextFloat()).ToArray())
            .ToList();
        Assert.Equal(0, FrechetDistance.Compute(rows, rows), 6);
    }

    [Fact]
    public void SamplesOfOneDistributionAreCloserThanSamplesOfAShiftedOne()
    {
        var rng = new Rng(5);
        List<float[]> Draw(float shift)
        {
            var z = Tensor.Randn(rng, new[] { 20000, 2 }).ToArray();
            return Enumerable.Range(0, 20000).Select(i =>
            {
                float a = z[2 * i], b = z[2 * i + 1];
                return new[] { a + shift, 0.5f * a + b, 2 * b };
            }).ToList();
        }
        var x = Draw(0);
        double same = FrechetDistance.Compute(x, Draw(0)), shifted = FrechetDistance.Compute(x, Draw(1));
        Assert.True(same < 0.02, $"same distribution: {same}");
        Assert.InRange(shifted, 0.9, 1.1); // the mean moved by 1 in one coordinate
    }

    [Fact]
    public void MismatchedFeatureSizesAreRejected()
    {
        var e = Assert.ThrowsAny<LongshotException>(() =>
            FrechetDistance.Compute(new List<float[]> { new float[3] }, new List<float[]> { new float[4] }));
        Assert.Contains("3- and 4-dimensional", e.Message);
    }
}
