namespace Longshot.Tensors.Autograd;

/// <summary>
/// bfloat16 mixed-precision training. Inside a <see cref="Bf16"/> scope:
/// <list type="bullet">
/// <item>the inputs of every GEMM, convolution and attention (weights and activations) are rounded to bfloat16, and
/// their products accumulate in float32, which is bit for bit what a bfloat16 kernel with float32 accumulation
/// computes (<see cref="Kernels.GemmBf16"/> shows the equality); gradients pass the rounding unchanged, so the
/// float32 master weights get them;</item>
/// <item>activations the graph keeps for the backward pass are stored as bfloat16: each op's output is packed once
/// a few more ops have been recorded after it, and widened again (exactly) when read, then packed again a few reads
/// later.</item>
/// </list>
/// The scope belongs to the thread that opened it; parameters, optimizer state and everything allocated outside the
/// scope stay float32. This CPU has no bfloat16 arithmetic that .NET exposes, so the scope saves memory, not time.
/// </summary>
public static class MixedPrecision
{
    /// <summary>Buffers smaller than this are never packed (a scalar loss stays exact).</summary>
    private const int MinPackedLength = 4096;

    [ThreadStatic] private static Scope? _current;
    private static int _lastId;

    /// <summary>Opens a bfloat16 scope on this thread (dispose to close it).</summary>
    /// <param name="window">Recorded outputs (or widened buffers) kept as float32 before they are packed.</param>
    public static IDisposable Bf16(int window = 4)
    {
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window), "Bf16: the window must be >= 1.");
        return _current = new Scope(Interlocked.Increment(ref _lastId), window, _current);
    }

    /// <summary>The id of this thread's open scope (0: none).</summary>
    internal static int CurrentScope => _current?.Id ?? 0;

    /// <summary>An op's output joins the graph: it will be packed once <c>window</c> newer ones have.</summary>
    internal static void Recorded(Tensor output) => Enqueue(output.Buffer);

    /// <summary>A packed buffer was widened to be read: it will be packed again later.</summary>
    internal static void Used(TensorBuffer buffer) => Enqueue(buffer);

    /// <summary>
    /// The GEMM, convolution and attention input, rounded to bfloat16 inside a scope (unchanged outside). An
    /// activation of the scope's graph is rounded in place, as if its op had written bfloat16 (it would be rounded
    /// when packed anyway, and a copy would be one more activation to keep); anything else (weights, inputs made
    /// outside the graph) gets a rounded copy, the bfloat16 weight copy of mixed precision.
    /// </summary>
    internal static Tensor Input(Tensor x)
    {
        var s = _current;
        if (s == null) return x;
        if (x.Buffer.Activation && x.Buffer.Scope == s.Id)
        {
            x.Buffer.Round();
            return x;
        }
        return Ops.RoundBf16(x);
    }

    private static void Enqueue(TensorBuffer b)
    {
        var s = _current;
        if (s == null || b.Scope != s.Id) return;
        b.Activation = true;
        if (b.Length < MinPackedLength) return;
        if (s.Recent.Contains(b)) return;
        s.Recent.Enqueue(b);
        while (s.Recent.Count > s.Window) s.Recent.Dequeue().Pack();
    }

    private sealed class Scope(int id, int window, Scope? outer) : IDisposable
    {
        public readonly int Id = id;
        public readonly int Window = window;
        public readonly Queue<TensorBuffer> Recent = new();
        private bool _closed;

        public void Dispose()
        {
            if (_closed) return;
            _closed = true;
            if (_current == this) _current = outer;
        }
    }
}
