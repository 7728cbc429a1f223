using Longshot.Tensors;

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
    /// Decodes what the first <paramref name="available"/> latents allow; <paramref name="latents"/>(start, count)
    /// returns [count, c, h, w] (unscaled) for frames already available.
    /// </summary>
    public IEnumerable<Tensor> Advance(Func<int, int, Tensor> latents, int available, CancellationToken ct = default)
    {
        while (_nextTile < _starts.Count)
        {
            int k = _nextTile, s = _starts[k], n = Math.Min(_codec.Tile, Length - s);
            if (s + n > available) yield break;
            ct.ThrowIfCancellationRequested();
            Tensor x;
            using (Tensor.NoGrad()) x = _codec.Vae.Decode(latents(s, n), frames: n);
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
