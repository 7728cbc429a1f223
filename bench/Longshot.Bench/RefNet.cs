using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Bench;

/// <summary>
/// The fixed reference network of the engine issue, mirrored by tools/refnet_torch.py for side-by-side timing.
/// Input [B*L, 4, 16, 16]; blocks of GroupNorm-SiLU-Conv, a temporal conv, spatial and temporal attention.
/// </summary>
internal sealed class RefNet : Module
{
    private readonly Conv2d _convIn, _down, _convOut;
    private readonly ConvTranspose2d _up;
    private readonly Block _b1, _b2, _b3;
    public int Frames { get; }

    public RefNet(VarBuilder vb, int c = 64, int frames = 16)
    {
        Frames = frames;
        _convIn = Child(new Conv2d(vb.Pp("conv_in"), 4, c, 3, padding: 1));
        _b1 = Child(new Block(vb.Pp("block1"), c, frames));
        _down = Child(new Conv2d(vb.Pp("down"), c, 2 * c, 3, stride: 2, padding: 1));
        _b2 = Child(new Block(vb.Pp("block2"), 2 * c, frames));
        _up = Child(new ConvTranspose2d(vb.Pp("up"), 2 * c, c, 2, stride: 2));
        _b3 = Child(new Block(vb.Pp("block3"), c, frames));
        _convOut = Child(new Conv2d(vb.Pp("conv_out"), c, 4, 3, padding: 1));
    }

    public Tensor Forward(Tensor x)
    {
        var h1 = _b1.Forward(_convIn.Forward(x));
        var h = _b2.Forward(_down.Forward(h1));
        h = _up.Forward(h) + h1;
        return _convOut.Forward(_b3.Forward(h));
    }

    private sealed class Block : Module
    {
        private readonly GroupNorm _norm1, _norm2;
        private readonly Conv2d _conv;
        private readonly Conv1d _tconv;
        private readonly TorchMultiheadAttention _spatial, _temporal;
        private readonly int _frames;

        public Block(VarBuilder vb, int c, int frames)
        {
            _frames = frames;
            _norm1 = Child(new GroupNorm(vb.Pp("norm1"), 8, c));
            _conv = Child(new Conv2d(vb.Pp("conv"), c, c, 3, padding: 1));
            _tconv = Child(new Conv1d(vb.Pp("tconv"), c, c, 3, padding: 1));
            _norm2 = Child(new GroupNorm(vb.Pp("norm2"), 8, c));
            _spatial = Child(new TorchMultiheadAttention(vb.Pp("spatial_attn"), c, 4));
            _temporal = Child(new TorchMultiheadAttention(vb.Pp("temporal_attn"), c, 4));
        }

        public Tensor Forward(Tensor x)
        {
            int n = x.Shape[0], c = x.Shape[1], hh = x.Shape[2], ww = x.Shape[3], b = n / _frames, l = _frames,
                hw = hh * ww;
            var h = _conv.Forward(_norm1.Forward(x, silu: true));
            // Temporal conv: [B, L, C, H, W] -> [B*H*W, C, L]
            var t = h.Reshape(b, l, c, hw).Permute(0, 3, 2, 1).Reshape(b * hw, c, l);
            t = _tconv.Forward(t).Reshape(b, hw, c, l).Permute(0, 3, 2, 1).Reshape(n, c, hh, ww);
            x = x + t;
            var z = _norm2.Forward(x).Reshape(n, c, hw).Transpose(1, 2); // [N, HW, C]
            z = z + _spatial.Forward(z);
            var zt = z.Reshape(b, l, hw, c).Transpose(1, 2).Reshape(b * hw, l, c);
            zt = zt + _temporal.Forward(zt);
            return zt.Reshape(b, hw, l, c).Transpose(1, 2).Reshape(n, hw, c).Transpose(1, 2).Reshape(n, c, hh, ww);
        }
    }
}
