using Longshot.Tensors;

namespace Longshot.Diffusion.Vae;

/// <summary>
/// Encodes and decodes videos of any length in overlapping temporal tiles (default 8 frames, stride 4, as
/// ExVideo decodes), blending overlaps with linear ramps so seams don't show. Decoding streams: a frame is
/// returned as soon as every tile covering it is done, so memory stays bounded by one tile whatever the length.
/// </summary>
public sealed class ChunkedVideoCodec
{
    public AutoencoderKL Vae { get; }
    public int Tile { get; }
    public int Stride { get; }

    public ChunkedVideoCodec(AutoencoderKL vae, int tile = 8, int stride = 4)
    {
        if (tile < 1 || stride < 1 || stride > tile)
            throw new LongshotException($"chunked codec: need 1 <= stride ({stride}) <= tile ({tile}).");
        Vae = vae; Tile = tile; Stride = stride;
    }

    /// <summary>
    /// The tiling generation decodes with: 16 frames at stride 12 decodes each frame 1.33 times instead of twice
    /// (8/4), at the same reconstruction quality (docs/performance.md, "VAE"). Encoding keeps 8/4, which latent
    /// caches were built with.
    /// </summary>
    public static ChunkedVideoCodec ForGeneration(AutoencoderKL vae) => new(vae, 16, 12);

    /// <summary>Tile start positions covering [0, length): every Stride frames, the last one flush with the
    /// end.</summary>
    public IReadOnlyList<int> TileStarts(int length)
    {
        if (length <= Tile) return new[] { 0 };
        var starts = new List<int>();
        for (int s = 0; s + Tile < length; s += Stride) starts.Add(s);
        starts.Add(length - Tile);
        return starts.Distinct().ToList();
    }

    /// <summary>Blend weight of local frame i in a tile of n frames that overlaps its neighbours on the given
    /// sides.</summary>
    internal float Weight(int i, int n, bool hasPrev, bool hasNext)
    {
        int ramp = Tile - Stride + 1;
        float w = 1f;
        if (hasPrev) w = Math.Min(w, (i + 1) / (float)ramp);
        if (hasNext) w = Math.Min(w, (n - i) / (float)ramp);
        return w;
    }

    /// <summary>Latent means of a video given as frames [L, 3, H, W] (any L), blended across tiles.</summary>
    public Tensor Encode(Func<int, int, Tensor> frames, int length, CancellationToken ct = default)
    {
        using var _ = Tensor.NoGrad();
        Tensor? acc = null; float[]? wsum = null;
        var starts = TileStarts(length);
        for (int k = 0; k < starts.Count; k++)
        {
            ct.ThrowIfCancellationRequested();
            int s = starts[k], n = Math.Min(Tile, length - s);
            var z = Vae.Encode(frames(s, n), frames: n).Mean;
            if (acc == null) { acc = Tensor.Zeros(length, z.Shape[1], z.Shape[2],
                z.Shape[3]); wsum = new float[length]; }
            Accumulate(acc, wsum!, z, s, n, k > 0, k < starts.Count - 1);
        }
        Normalize(acc!, wsum!, 0, length);
        return acc!;
    }

    /// <summary>Decodes latents [L, c, h, w] into frames [3, H, W], yielded in order, one tile of memory at a
    /// time.</summary>
    public IEnumerable<Tensor> Decode(Tensor latents, CancellationToken ct = default)
    {
        int length = latents.Shape[0];
        return new ChunkedDecoder(this, length).Advance((s, n) => latents.Narrow(0, s, n).Contiguous(), length, ct);
    }

    /// <summary>
    /// Frames [from, to) of a video of <paramref name="length"/> latents, decoded and blended from exactly the tiles
    /// the full decode would use for them; <paramref name="latents"/>(start, count) returns unscaled latents.
    /// </summary>
    public List<Tensor> DecodeRange(Func<int, int, Tensor> latents, int length, int from, int to,
        CancellationToken ct = default)
    {
        if (from < 0 || to > length || from >= to)
            throw new LongshotException($"decode range [{from}, {to}) is not inside [0, {length}).");
        using var _ = Tensor.NoGrad();
        var starts = TileStarts(length);
        var sums = new Tensor?[to - from];
        var weights = new float[to - from];
        for (int k = 0; k < starts.Count; k++)
        {
            int s = starts[k], n = Math.Min(Tile, length - s);
            if (s >= to || s + n <= from) continue;
            ct.ThrowIfCancellationRequested();
            var x = Vae.Decode(latents(s, n), frames: n);
            for (int i = Math.Max(0, from - s); i < n && s + i < to; i++)
            {
                float w = Weight(i, n, k > 0, k < starts.Count - 1);
                var f = x.Narrow(0, i, 1).Squeeze(0);
                int j = s + i - from;
                sums[j] = sums[j] is { } acc ? acc + f * w : f * w;
                weights[j] += w;
            }
        }
        return sums.Select((sum, j) => sum! / weights[j]).ToList();
    }

    private void Accumulate(Tensor acc, float[] wsum, Tensor z, int s, int n, bool hasPrev, bool hasNext)
    {
        int per = z.Numel / n;
        var src = z.Contiguous().ToArray();
        var dst = acc.Span;
        for (int i = 0; i < n; i++)
        {
            float w = Weight(i, n, hasPrev, hasNext);
            wsum[s + i] += w;
            for (int j = 0; j < per; j++) dst[(s + i) * per + j] += w * src[i * per + j];
        }
    }

    private static void Normalize(Tensor acc, float[] wsum, int from, int to)
    {
        int per = acc.Numel / acc.Shape[0];
        var d = acc.Span;
        for (int i = from; i < to; i++)
            for (int j = 0; j < per; j++) d[i * per + j] /= wsum[i];
    }
}
