using Longshot.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace Longshot.Eval.Metrics;

/// <summary>Mean and covariance (n - 1 normalised, as numpy.cov) of a set of feature vectors.</summary>
public sealed record GaussianStats(Vector<double> Mean, Matrix<double> Covariance, int Count)
{
    /// <summary>Statistics of <paramref name="rows"/> feature vectors of equal length.</summary>
    public static GaussianStats Of(IReadOnlyList<float[]> rows)
    {
        if (rows.Count == 0) throw new LongshotException("Fréchet distance: no feature vectors.");
        int d = rows[0].Length;
        if (rows.Any(r => r.Length != d))
            throw new LongshotException("Fréchet distance: feature vectors differ in length.");
        var x = Matrix<double>.Build.Dense(rows.Count, d, (i, j) => rows[i][j]);
        var mean = x.ColumnSums() / rows.Count;
        var centred = x - Matrix<double>.Build.Dense(rows.Count, d, (_, j) => mean[j]);
        var cov = rows.Count > 1 ? centred.TransposeThisAndMultiply(centred) / (rows.Count - 1)
            : Matrix<double>.Build.Dense(d, d);
        return new GaussianStats(mean, cov, rows.Count);
    }
}

/// <summary>
/// Fréchet distance between two Gaussians, as in FID and FVD:
/// |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).
/// The trace of the matrix square root is taken as tr((S1^(1/2) S2 S1^(1/2))^(1/2)), whose argument is symmetric
/// positive semi-definite, so two symmetric eigen-decompositions give it without the complex square roots and
/// singular-matrix offsets of scipy's sqrtm on (nearly) singular covariances.
/// </summary>
public static class FrechetDistance
{
    public static double Compute(GaussianStats a, GaussianStats b)
    {
        if (a.Mean.Count != b.Mean.Count)
            throw new LongshotException($"Fréchet distance: {a.Mean.Count}- and {b.Mean.Count}-dimensional features.");
        var diff = a.Mean - b.Mean;
        var rootA = SymmetricSqrt(a.Covariance);
        var m = rootA * b.Covariance * rootA;
        m = (m + m.Transpose()) * 0.5;
        double traceRoot = m.Evd(Symmetricity.Symmetric).EigenValues.Sum(e => Math.Sqrt(Math.Max(e.Real, 0)));
        double d = diff.DotProduct(diff) + a.Covariance.Trace() + b.Covariance.Trace() - 2 * traceRoot;
        return Math.Max(d, 0); // rounding can leave -1e-12 for identical sets
    }

    public static double Compute(IReadOnlyList<float[]> a, IReadOnlyList<float[]> b) =>
        Compute(GaussianStats.Of(a), GaussianStats.Of(b));

    /// <summary>Square root of a symmetric positive semi-definite matrix (negative rounding eigenvalues clipped to
    /// 0).</summary>
    public static Matrix<double> SymmetricSqrt(Matrix<double> s)
    {
        var evd = ((s + s.Transpose()) * 0.5).Evd(Symmetricity.Symmetric);
        var v = evd.EigenVectors;
        var roots = Matrix<double>.Build.DiagonalOfDiagonalVector(evd.EigenValues.Map(e =>
            Math.Sqrt(Math.Max(e.Real, 0))));
        return v * roots * v.Transpose();
    }
}
