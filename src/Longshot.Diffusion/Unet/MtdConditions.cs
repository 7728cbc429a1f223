using Longshot.Tensors;

namespace Longshot.Diffusion.Unet;

/// <summary>
/// The visual condition of a Mask Temporal Diffusion call, built the same way for training and sampling: the clean
/// latents of the given frames (zeros elsewhere) and the mask that marks them.
/// </summary>
public static class MtdConditions
{
    /// <summary>Condition and mask, both [N, ...], from clean latents [N, c, h, w] and which frames are
    /// given.</summary>
    public static (Tensor Condition, Tensor Mask) Build(Tensor x0, bool[] given)
    {
        int n = x0.Shape[0], h = x0.Shape[2], w = x0.Shape[3];
        var m = Tensor.FromArray(given.Select(g => g ? 1f : 0f).ToArray(), n, 1, 1, 1).ToDevice(x0.Device);
        using var _ = Tensor.NoGrad();
        return (x0 * m, Ops.Expand(m, n, 1, h, w).Contiguous());
    }
}
