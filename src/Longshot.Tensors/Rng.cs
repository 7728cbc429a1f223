using System.Runtime.CompilerServices;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

/// <summary>
/// A counter-based generator (Philox 4x32-10). Element i of a fill depends only on (seed, counter, i),
/// so the numbers are the same whatever the thread count, and the state is two integers that a
/// checkpoint can save and restore exactly.
/// </summary>
public sealed class Rng
{
    /// <summary>The seed this generator was created with.</summary>
    public ulong Seed { get; }

    /// <summary>How many 128-bit blocks have been used so far.</summary>
    public ulong Counter { get; private set; }

    public Rng(ulong seed, ulong counter = 0) { Seed = seed; Counter = counter; }

    /// <summary>A generator for a sub-stream named by <paramref name="keys"/>, e.g. (level, segment); independent of
    /// this one's use.</summary>
    public Rng Derive(params ulong[] keys)
    {
        ulong h = Seed ^ 0x9E3779B97F4A7C15UL;
        foreach (var k in keys) h = SplitMix(h ^ SplitMix(k + 0x632BE59BD9B4E019UL));
        return new Rng(h);
    }

    /// <summary>Sets the position (for resuming from a checkpoint).</summary>
    public void Restore(ulong counter) => Counter = counter;

    private long _windowOffset, _windowTotal;

    /// <summary>
    /// A generator whose every normal fill of n values gives elements [offset, offset + n) of the fill of
    /// <paramref name="total"/> values this generator would make, and then stands where that fill leaves it: a
    /// clip of a video draws exactly its part of the whole video's noise, step after step, without the rest.
    /// </summary>
    public Rng Window(long offset, long total)
    {
        if (offset < 0 || total < 1 || offset > total)
            throw new ArgumentOutOfRangeException(nameof(offset), $"window [{offset}, ...) of {total} values.");
        return new Rng(Seed, Counter) { _windowOffset = offset, _windowTotal = total };
    }

    private static ulong SplitMix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Philox(ulong seed, ulong block, out uint r0, out uint r1, out uint r2, out uint r3)
    {
        uint c0 = (uint)block, c1 = (uint)(block >> 32), c2 = 0, c3 = 0;
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = 0xD2511F53UL * c0, p1 = 0xCD9E8D57UL * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0, hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            c0 = hi1 ^ c1 ^ k0; c1 = lo1; c2 = hi0 ^ c3 ^ k1; c3 = lo0;
            k0 += 0x9E3779B9; k1 += 0xBB67AE85;
        }
        r0 = c0; r1 = c1; r2 = c2; r3 = c3;
    }

    private const float Inv24 = 1f / (1 << 24);

    /// <summary>Fills with samples from U[low, high).</summary>
    public void FillUniform(Span<float> dst, float low = 0f, float high = 1f)
    {
        if (_windowTotal > 0) throw new InvalidOperationException("a windowed generator draws normal values only.");
        ulong start = Counter; int n = dst.Length; float span = high - low;
        int blocks = (n + 3) / 4;
        var arr = new float[n];
        ulong seed = Seed;
        Threads.For(blocks, 1 << 14, (b0, b1) =>
        {
            for (int b = b0; b < b1; b++)
            {
                Philox(seed, start + (ulong)b, out var r0, out var r1, out var r2, out var r3);
                int i = b * 4;
                arr[i] = low + span * ((r0 >> 8) * Inv24);
                if (i + 1 < n) arr[i + 1] = low + span * ((r1 >> 8) * Inv24);
                if (i + 2 < n) arr[i + 2] = low + span * ((r2 >> 8) * Inv24);
                if (i + 3 < n) arr[i + 3] = low + span * ((r3 >> 8) * Inv24);
            }
        });
        arr.CopyTo(dst);
        Counter = start + (ulong)blocks;
    }

    /// <summary>Fills with samples from N(mean, std^2) (Box-Muller, four per block).</summary>
    public void FillNormal(Span<float> dst, float mean = 0f, float std = 1f)
    {
        if (_windowTotal > 0) { FillNormalWindow(dst, mean, std); return; }
        ulong start = Counter; int n = dst.Length;
        int blocks = (n + 3) / 4;
        var arr = new float[n];
        ulong seed = Seed;
        Threads.For(blocks, 1 << 13, (b0, b1) =>
        {
            Span<float> z = stackalloc float[4];
            for (int b = b0; b < b1; b++)
            {
                NormalBlock(seed, start + (ulong)b, z);
                int i = b * 4;
                for (int j = 0; j < 4 && i + j < n; j++) arr[i + j] = mean + std * z[j];
            }
        });
        arr.CopyTo(dst);
        Counter = start + (ulong)blocks;
    }

    private void FillNormalWindow(Span<float> dst, float mean, float std)
    {
        if (_windowOffset + dst.Length > _windowTotal)
            throw new ArgumentOutOfRangeException(nameof(dst), $"{dst.Length} values past the window's end.");
        Span<float> z = stackalloc float[4];
        long lastBlock = -1;
        for (int j = 0; j < dst.Length; j++)
        {
            long i = _windowOffset + j, block = i / 4;
            if (block != lastBlock)
            {
                NormalBlock(Seed, Counter + (ulong)block, z);
                lastBlock = block;
            }
            dst[j] = mean + std * z[(int)(i % 4)];
        }
        Counter += (ulong)((_windowTotal + 3) / 4);
    }

    /// <summary>The four standard normal values of one generator block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NormalBlock(ulong seed, ulong block, Span<float> z)
    {
        Philox(seed, block, out var r0, out var r1, out var r2, out var r3);
        BoxMuller(r0, r1, out z[0], out z[1]);
        BoxMuller(r2, r3, out z[2], out z[3]);
    }

    private static void BoxMuller(uint a, uint b, out float z0, out float z1)
    {
        double u1 = ((a >> 8) + 1) * (1.0 / (1 << 24)); // (0, 1]
        double u2 = (b >> 8) * (1.0 / (1 << 24));
        double r = Math.Sqrt(-2.0 * Math.Log(u1)), t = 2.0 * Math.PI * u2;
        z0 = (float)(r * Math.Cos(t)); z1 = (float)(r * Math.Sin(t));
    }

    /// <summary>A uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), "NextInt: n must be positive.");
        Philox(Seed, Counter++, out var r0, out var r1, out _, out _);
        ulong v = ((ulong)r1 << 32) | r0;
        return (int)(v % (ulong)n);
    }

    /// <summary>A uniform float in [0, 1).</summary>
    public float NextFloat()
    {
        Philox(Seed, Counter++, out var r0, out _, out _, out _);
        return (r0 >> 8) * Inv24;
    }
}
