namespace Longshot.Tensors;

/// <summary>Shape arithmetic and the error messages that name the op and the shapes.</summary>
internal static class ShapeUtil
{
    public static int Numel(int[] shape)
    {
        int n = 1;
        foreach (var s in shape) n *= s;
        return n;
    }

    public static int CheckedNumel(int[] shape)
    {
        long n = 1;
        foreach (var s in shape)
        {
            if (s < 0) throw new ArgumentException($"Negative dimension in shape {Str(shape)}.");
            n *= s;
            if (n > Array.MaxLength)
                throw new ArgumentException($"Shape {Str(shape)} has more elements than one tensor can hold.");
        }
        return (int)n;
    }

    public static int[] ContiguousStrides(int[] shape)
    {
        var st = new int[shape.Length];
        int s = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { st[d] = s; s *= shape[d]; }
        return st;
    }

    public static bool IsContiguous(int[] shape, int[] strides)
    {
        int s = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] == 1) continue;
            if (strides[d] != s) return false;
            s *= shape[d];
        }
        return true;
    }

    public static string Str(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    public static int NormDim(int dim, int rank, string op)
    {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank)
            throw new ArgumentException($"{op}: dimension {dim} is out of range for a tensor of rank {rank}.");
        return d;
    }

    public static void CheckSame(string op, int[] a, int[] b)
    {
        if (!a.AsSpan().SequenceEqual(b))
            throw new ArgumentException($"{op}: shapes {Str(a)} and {Str(b)} do not match.");
    }

    /// <summary>NumPy broadcasting of two shapes.</summary>
    public static int[] Broadcast(string op, int[] a, int[] b)
    {
        int r = Math.Max(a.Length, b.Length);
        var o = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i - (r - a.Length) >= 0 ? a[i - (r - a.Length)] : 1;
            int db = i - (r - b.Length) >= 0 ? b[i - (r - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Str(a)} and {Str(b)} cannot be broadcast together.");
            o[i] = da == 1 ? db : da;
        }
        return o;
    }

    /// <summary>Resolves a reshape target with at most one -1.</summary>
    public static int[] InferShape(string op, int numel, int[] shape)
    {
        var o = (int[])shape.Clone();
        int infer = -1; long known = 1;
        for (int i = 0; i < o.Length; i++)
        {
            if (o[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension may be -1 in {Str(shape)}.");
                infer = i;
            }
            else if (o[i] < 0) throw new ArgumentException($"{op}: invalid dimension {o[i]} in {Str(shape)}.");
            else known *= o[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || numel % known != 0)
                throw new ArgumentException($"{op}: cannot reshape {numel} elements into {Str(shape)}.");
            o[infer] = (int)(numel / known);
        }
        else if (known != numel)
            throw new ArgumentException($"{op}: cannot reshape {numel} elements into {Str(shape)}.");
        return o;
    }
}
