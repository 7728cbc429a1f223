namespace Longshot.Tensors.Nn;

/// <summary>
/// Multi-head attention with diffusers' parameter names (to_q, to_k, to_v, to_out.0). Self-attention when no
/// context is given, cross-attention otherwise. Inputs are token sequences [B, L, C].
/// </summary>
public sealed class MultiHeadAttention : Module
{
    public Linear ToQ { get; }
    public Linear ToK { get; }
    public Linear ToV { get; }
    public Linear ToOut { get; }
    public int Heads { get; }

    /// <param name="zeroOut">Zero-initialise the output projection so the block starts as identity in a
    /// residual.</param>
    public MultiHeadAttention(VarBuilder vb, int dim, int heads, int? contextDim = null, bool qkvBias = false,
        bool zeroOut = false)
    {
        if (dim % heads != 0)
            throw new ArgumentException($"Attention '{vb.Prefix}': width {dim} is not divisible by {heads} heads.");
        int cd = contextDim ?? dim;
        ToQ = Child(new Linear(vb.Pp("to_q"), dim, dim, qkvBias));
        ToK = Child(new Linear(vb.Pp("to_k"), cd, dim, qkvBias));
        ToV = Child(new Linear(vb.Pp("to_v"), cd, dim, qkvBias));
        ToOut = Child(new Linear(vb.Pp("to_out").Pp(0), dim, dim, true, zeroOut ? Init.Zeros : null));
        Heads = heads;
    }

    /// <summary>x: [B, Lq, C]; context: [B, Lk, Cc] or null; bias/mask broadcast to [B, H, Lq, Lk].</summary>
    public Tensor Forward(Tensor x, Tensor? context = null, Tensor? mask = null, Tensor? bias = null)
    {
        var ctx = context ?? x;
        var q = SplitHeads(ToQ.Forward(x));
        var k = SplitHeads(ToK.Forward(ctx));
        var v = SplitHeads(ToV.Forward(ctx));
        var o = Ops.ScaledDotProductAttention(q, k, v, mask, bias);
        return ToOut.Forward(MergeHeads(o));
    }

    internal Tensor SplitHeads(Tensor t)
    {
        int b = t.Shape[0], l = t.Shape[1], c = t.Shape[2];
        return t.Reshape(b, l, Heads, c / Heads).Permute(0, 2, 1, 3);
    }

    internal static Tensor MergeHeads(Tensor o)
    {
        int b = o.Shape[0], h = o.Shape[1], l = o.Shape[2], d = o.Shape[3];
        return o.Permute(0, 2, 1, 3).Reshape(b, l, h * d);
    }
}

/// <summary>
/// torch.nn.MultiheadAttention's layout (in_proj_weight [3C, C], in_proj_bias, out_proj.weight/bias), batch-first,
/// for loading weights of models built on it.
/// </summary>
public sealed class TorchMultiheadAttention : Module
{
    public Tensor InProjWeight { get; }
    public Tensor InProjBias { get; }
    public Linear OutProj { get; }
    public int Heads { get; }

    public TorchMultiheadAttention(VarBuilder vb, int dim, int heads)
    {
        if (dim % heads != 0)
            throw new ArgumentException($"Attention '{vb.Prefix}': width {dim} is not divisible by {heads} heads.");
        InProjWeight = vb.Get("in_proj_weight", new[] { 3 * dim, dim }, Init.XavierUniform);
        InProjBias = vb.Get("in_proj_bias", new[] { 3 * dim }, Init.Zeros);
        OutProj = Child(new Linear(vb.Pp("out_proj"), dim, dim, true, null));
        Heads = heads;
    }

    /// <summary>Self-attention over x: [B, L, C].</summary>
    public Tensor Forward(Tensor x, Tensor? mask = null, Tensor? bias = null)
    {
        int b = x.Shape[0], l = x.Shape[1], c = x.Shape[2], d = c / Heads;
        var qkv = Ops.Linear(x, InProjWeight, InProjBias).Reshape(b, l, 3, Heads, d).Permute(2, 0, 3, 1, 4);
        var q = qkv.Narrow(0, 0, 1).Squeeze(0);
        var k = qkv.Narrow(0, 1, 1).Squeeze(0);
        var v = qkv.Narrow(0, 2, 1).Squeeze(0);
        var o = Ops.ScaledDotProductAttention(q, k, v, mask, bias);
        return OutProj.Forward(MultiHeadAttention.MergeHeads(o));
    }
}
