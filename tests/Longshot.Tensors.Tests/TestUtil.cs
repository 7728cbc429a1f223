using Xunit;

namespace Longshot.Tensors.Tests;

internal static class TestUtil
{
    /// <summary>Asserts |a - b| &lt;= atol + rtol * |b| elementwise, reporting the worst element.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, float atol = 1e-4f, float rtol = 1e-4f,
        string what = "")
    {
        Assert.True(expected.Shape.SequenceEqual(actual.Shape),
            $"{what}: shape {Str(actual.Shape)} != expected {Str(expected.Shape)}");
        var e = expected.ToArray(); var a = actual.ToArray();
        int worst = -1; float worstErr = 0;
        for (int i = 0; i < e.Length; i++)
        {
            float err = MathF.Abs(e[i] - a[i]) - (atol + rtol * MathF.Abs(e[i]));
            if (float.IsNaN(a[i])
                || err > worstErr) { worst = i; worstErr = float.IsNaN(a[i]) ? float.PositiveInfinity : err; }
        }
        Assert.True(worst < 0, worst < 0 ? "" : $"{what}: element {worst} is {a[worst]}, expected {e[worst]}");
    }

    public static string Str(int[] s) => "[" + string.Join(", ", s) + "]";

    /// <summary>The same values in a non-contiguous layout: stored transposed, viewed back.</summary>
    public static Tensor NonContiguous(Tensor t)
    {
        if (t.Rank < 2 || t.Shape[^1] < 2 || t.Shape[^2] < 2) return t;
        var stored = Ops.Transpose(t, -1, -2).Contiguous();
        var view = Ops.Transpose(stored, -1, -2);
        Assert.False(view.IsContiguous);
        return view;
    }

    public static string GoldenPath(string file) => Path.Combine(AppContext.BaseDirectory, "Golden", file);
}
