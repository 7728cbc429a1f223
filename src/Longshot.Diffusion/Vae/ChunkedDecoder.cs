using Longshot.Tensors;
using Longshot.Tensors.Kernels;

namespace Longshot.Diffusion.Vae;

/// <summary>
/// Incremental chunked decoding: as latents become available in order, tiles lying wholly inside the available
/// prefix are decoded, blended, and every frame no later tile can touch is returned. Generation can then write the
/// first frames of a long video while later ones are still being sampled, holding one tile of pixels at a time.
/// </summary>
public sealed class ChunkedDecoder
{
    private readonly ChunkedVideoCodec _codec;
    private readonly IReadOnlyList<int> _starts;
    private readonly Dictionary<int, (Tensor Sum, float W)> _pending = new();
    private int _nextTile, _nextFrame;

    public int Length { get; }

    public ChunkedDecoder(ChunkedVideoCodec codec, int length)
    {
        _codec = codec; Length = length;
        _starts = codec.TileStarts(length);
    }

    /// <summary>True once every frame has been returned.</summary>
    public bool Done => _nextFrame >= Length;

    /// <summary>
    /// Tiles decoded side by side, each on its share of the kernel threads (default: one per core). Tiles are
    /// independent and the VAE's layers are small, so one tile per core is about twice as fast on two cores as one
    /// tile on both; memory grows to this many tiles. Blending stays in tile order, so frames do not depend on it.
    /// </summary>
    public int Workers { get; init; } = Threads.Count;

    /// <summary>
    /// Decodes what the first <paramref name="available"/> latents allow; <paramref name="latents"/>(start, count)
    /// returns [count, c, h, w] (unscaled) for frames already available. It is only called on the caller's thread.
    /// </summary>
    public IEnumerable<Tensor> Advance(Func<int, int, Tensor> latents, int available, CancellationToken ct = default)
    {
        int workers = Math.Clamp(Workers, 1, Math.Max(1, Threads.Count));
        while (_nextTile < _starts.Count)
        {
            int count = 0;
            while (count < workers && _nextTile + count < _starts.Count && End(_nextTile + count) <= available) count++;
            if (count == 0) yield break;
            ct.ThrowIfCancellationRequested();
            var inputs = Enumerable.Range(_nextTile, count).Select(k => latents(_starts[k], End(k) - _starts[k]))
                .ToArray();
            var tiles = DecodeTiles(inputs, ct);
            foreach (var x in tiles)
            {
                int k = _nextTile, s = _starts[k], n = End(k) - s;
                for (int i = 0; i < n; i++)
                {
                    float w = _codec.Weight(i, n, k > 0, k < _starts.Count - 1);
                    var f = x.Narrow(0, i, 1).Squeeze(0);
                    _pending[s + i] = _pending.TryGetValue(s + i, out var p) ? (p.Sum + f * w, p.W + w) : (f * w, w);
                }
                _nextTile++;
                int done = _nextTile < _starts.Count ? _starts[_nextTile] : Length;
                for (; _nextFrame < done; _nextFrame++)
                {
                    var (sum, wt) = _pending[_nextFrame];
                    _pending.Remove(_nextFrame);
                    yield return sum / wt;
                }
            }
        }
    }

    private int End(int tile) => Math.Min(_starts[tile] + _codec.Tile, Length);

    private Tensor[] DecodeTiles(Tensor[] inputs, CancellationToken ct)
    {
        var outs = new Tensor[inputs.Length];
        Threads.SideBySide(inputs.Length, k =>
        {
            using var _ = Tensor.NoGrad();
            outs[k] = _codec.Vae.Decode(inputs[k], frames: inputs[k].Shape[0]);
        }, ct);
        return outs;
    }
}
