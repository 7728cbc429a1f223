using Longshot.Tensors;

namespace Longshot.Diffusion.Layers;

/// <summary>
/// What one clip's temporal attention attends to under a <see cref="TemporalScope"/> (Video-Infinity's dual scope):
/// the keys' frames in order (the neighbouring clip's last frames, the clip's own, the next clip's first, then the
/// video's global frames), their positions in the video, the mask (a local key only within the window of its query,
/// every global key) and the logit bias of the step on each kind of key.
/// </summary>
/// <param name="Frames">[K, ...]: the keys' frames, frames first.</param>
/// <param name="Positions">Each key's frame in the clip's coordinates (negative before the clip).</param>
/// <param name="Mask">[1, 1, L, K]: 1 where the query may attend to the key.</param>
/// <param name="Bias">[1, 1, L, K] logit bias, or null when the step favours neither kind.</param>
public sealed record ClipKeys(Tensor Frames, int[] Positions, Tensor Mask, Tensor? Bias)
{
    /// <summary>True when the keys are the clip's own frames only.</summary>
    public bool OwnOnly { get; private init; }

    /// <summary>
    /// The keys for <paramref name="frames"/> [L, ...] (one clip's frames at this layer, frames first) whose queries
    /// stand at <paramref name="positions"/>, asking the scope's exchange for the neighbours' and global frames.
    /// </summary>
    public static ClipKeys Gather(Tensor frames, int[] positions, TemporalScope scope, int timestep)
    {
        int l = frames.Shape[0];
        var parts = new List<Tensor>();
        var keyPositions = new List<int>();
        int localKeys = l;
        Tensor? before = null, after = null;
        (Tensor Frames, int[] Offsets)? global = null;
        if (scope.Exchange is { } ex)
        {
            (before, after) = ex.Neighbours(frames, scope.Window);
            global = ex.Global(frames);
        }
        if (before != null)
        {
            parts.Add(before);
            keyPositions.AddRange(Enumerable.Range(positions[0] - before.Shape[0], before.Shape[0]));
            localKeys += before.Shape[0];
        }
        keyPositions.AddRange(positions);
        parts.Add(frames);
        if (after != null)
        {
            parts.Add(after);
            keyPositions.AddRange(Enumerable.Range(positions[^1] + 1, after.Shape[0]));
            localKeys += after.Shape[0];
        }
        if (global is { } g)
        {
            parts.Add(g.Frames);
            keyPositions.AddRange(g.Offsets.Select(o => positions[0] + o));
        }
        int keys = keyPositions.Count;
        var (localBias, globalBias) = scope.Exchange?.KeyBias(timestep) ?? (0f, 0f);
        var mask = new float[l * keys];
        var extra = new float[l * keys];
        for (int i = 0; i < l; i++)
            for (int j = 0; j < keys; j++)
            {
                bool local = j < localKeys;
                mask[i * keys + j] = !local || scope.Window == 0 || Math.Abs(keyPositions[j] - positions[i])
                    <= scope.Window ? 1f : 0f;
                extra[i * keys + j] = local ? localBias : globalBias;
            }
        var bias = localBias != 0 || globalBias != 0 ? Tensor.FromArray(extra, 1, 1, l, keys) : null;
        return new ClipKeys(parts.Count == 1 ? frames : Ops.Concat(parts, 0), keyPositions.ToArray(),
            Tensor.FromArray(mask, 1, 1, l, keys), bias) { OwnOnly = parts.Count == 1 };
    }

    /// <summary>
    /// The keys of a temporal attention whose queries are <paramref name="tokens"/> [P, L, C] (one sequence of the
    /// clip's L frames per pixel, normed as the attention reads them): the context [P, K, C] and the mask and bias
    /// [1, 1, L, K] to attend with.
    /// </summary>
    public static (Tensor Context, Tensor Mask, Tensor? Bias) ForTokens(Tensor tokens, TemporalScope scope,
        int timestep)
    {
        int p = tokens.Shape[0], l = tokens.Shape[1], d = tokens.Shape[2];
        var keys = Gather(tokens.Permute(1, 0, 2).Contiguous().Reshape(l, p, d, 1), Enumerable.Range(0, l).ToArray(),
            scope, timestep);
        var context = keys.Frames.Reshape(keys.Positions.Length, p, d).Permute(1, 0, 2).Contiguous();
        return (context, keys.Mask, keys.Bias);
    }
}
