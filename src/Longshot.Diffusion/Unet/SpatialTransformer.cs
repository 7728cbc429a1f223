using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet;

/// <summary>
/// The spatial half of an MTD attention stack (diffusers' BasicTransformerBlock): self-attention over each frame's
/// pixels, cross-attention of each frame to its own prompt, and a feed-forward layer, each with a pre-norm and a
/// residual.
/// </summary>
public sealed class SpatialTransformer : Module
{
    private readonly LayerNorm _n1, _n2, _n3;
    private readonly MultiHeadAttention _self, _prompt;
    private readonly Linear _ff1, _ff2;

    public SpatialTransformer(VarBuilder vb, int channels, MaskUnetConfig cfg)
    {
        _n1 = Child(new LayerNorm(vb.Pp("norm1"), channels));
        _self = Child(new MultiHeadAttention(vb.Pp("attn1"), channels, cfg.Heads));
        _n2 = Child(new LayerNorm(vb.Pp("norm2"), channels));
        _prompt = Child(new MultiHeadAttention(vb.Pp("attn2"), channels, cfg.Heads, contextDim: cfg.CrossAttentionDim));
        _n3 = Child(new LayerNorm(vb.Pp("norm3"), channels));
        _ff1 = Child(new Linear(vb.Pp("ff").Pp("net").Pp(0).Pp("proj"), channels, 4 * channels));
        _ff2 = Child(new Linear(vb.Pp("ff").Pp("net").Pp(2), 4 * channels, channels));
    }

    /// <param name="h">[N, C, H, W] images.</param>
    /// <param name="prompts">[N, l_p, d_p]: image i attends to the prompt of image i.</param>
    public Tensor Forward(Tensor h, Tensor prompts)
    {
        int n = h.Shape[0], c = h.Shape[1], hh = h.Shape[2], ww = h.Shape[3];
        var x = h.Reshape(n, c, hh * ww).Transpose(1, 2);           // [N, HW, C]
        x = x + _self.Forward(_n1.Forward(x));
        x = x + _prompt.Forward(_n2.Forward(x), prompts);
        x = x + _ff2.Forward(Ops.Gelu(_ff1.Forward(_n3.Forward(x))));
        return x.Transpose(1, 2).Reshape(n, c, hh, ww);
    }
}
