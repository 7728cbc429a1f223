namespace Longshot.Tensors.Nn;

/// <summary>y = x W^T + b (torch.nn.Linear; keys weight, bias).</summary>
public sealed class Linear : Layer
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public Linear(VarBuilder vb, int inFeatures, int outFeatures, bool bias = true, Init? init = null)
    {
        Weight = vb.Get("weight", new[] { outFeatures, inFeatures }, init ?? Init.TorchDefault);
        if (bias) Bias = vb.Get("bias", new[] { outFeatures },
            init == Init.Zeros ? Init.Zeros : Init.TorchBias(inFeatures));
    }

    public override Tensor Forward(Tensor x) => Ops.Linear(x, Weight, Bias);
}

/// <summary>torch.nn.Conv1d over [N, C, L].</summary>
public sealed class Conv1d : Layer
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int Stride { get; }
    public int Padding { get; }
    public PadMode PadMode { get; }

    public Conv1d(VarBuilder vb, int inC, int outC, int kernel, int stride = 1, int padding = 0, bool bias = true,
        PadMode padMode = PadMode.Constant, Init? init = null, Init? biasInit = null)
    {
        Weight = vb.Get("weight", new[] { outC, inC, kernel }, init ?? Init.TorchDefault);
        if (bias) Bias = vb.Get("bias", new[] { outC }, biasInit ?? Init.TorchBias(inC * kernel));
        Stride = stride; Padding = padding; PadMode = padMode;
    }

    public override Tensor Forward(Tensor x) => Ops.Conv1d(x, Weight, Bias, Stride, Padding, PadMode);
}

/// <summary>torch.nn.Conv2d over [N, C, H, W].</summary>
public sealed class Conv2d : Layer
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int Stride { get; }
    public int Padding { get; }
    public PadMode PadMode { get; }

    public Conv2d(VarBuilder vb, int inC, int outC, int kernel, int stride = 1, int padding = 0, bool bias = true,
        PadMode padMode = PadMode.Constant, Init? init = null, Init? biasInit = null)
    {
        Weight = vb.Get("weight", new[] { outC, inC, kernel, kernel }, init ?? Init.TorchDefault);
        if (bias) Bias = vb.Get("bias", new[] { outC }, biasInit ?? Init.TorchBias(inC * kernel * kernel));
        Stride = stride; Padding = padding; PadMode = padMode;
    }

    public override Tensor Forward(Tensor x) => Ops.Conv2d(x, Weight, Bias, Stride, Padding, PadMode);
}

/// <summary>torch.nn.Conv3d over [N, C, D, H, W], kernel and padding per (D, H, W).</summary>
public sealed class Conv3d : Layer
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int[] Stride { get; }
    public int[] Padding { get; }
    public PadMode PadMode { get; }

    public Conv3d(VarBuilder vb, int inC, int outC, int[] kernel, int[]? stride = null, int[]? padding = null,
        bool bias = true, PadMode padMode = PadMode.Constant, Init? init = null, Init? biasInit = null)
    {
        if (kernel.Length != 3) throw new ArgumentException("Conv3d: kernel needs three sizes (D, H, W).");
        Weight = vb.Get("weight", new[] { outC, inC, kernel[0], kernel[1], kernel[2] }, init ?? Init.TorchDefault);
        if (bias) Bias = vb.Get("bias", new[] { outC },
            biasInit ?? Init.TorchBias(inC * kernel[0] * kernel[1] * kernel[2]));
        Stride = stride ?? new[] { 1, 1, 1 }; Padding = padding ?? new[] { 0, 0, 0 }; PadMode = padMode;
    }

    public override Tensor Forward(Tensor x) => Ops.Conv3d(x, Weight, Bias, Stride, Padding, PadMode);
}

/// <summary>torch.nn.ConvTranspose2d (weight [Ci, Co, k, k]).</summary>
public sealed class ConvTranspose2d : Layer
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int Stride { get; }
    public int Padding { get; }

    public ConvTranspose2d(VarBuilder vb, int inC, int outC, int kernel, int stride = 1, int padding = 0,
        bool bias = true)
    {
        // PyTorch computes fan-in from weight.size(1) * k * k for transposed convs.
        Weight = vb.Get("weight", new[] { inC, outC, kernel, kernel }, Init.TorchDefault);
        if (bias) Bias = vb.Get("bias", new[] { outC }, Init.TorchBias(outC * kernel * kernel));
        Stride = stride; Padding = padding;
    }

    public override Tensor Forward(Tensor x) => Ops.ConvTranspose2d(x, Weight, Bias, Stride, Padding);
}

/// <summary>torch.nn.GroupNorm; <see cref="Forward(Tensor, bool)"/> can fuse the SiLU that follows.</summary>
public sealed class GroupNorm : Layer
{
    public Tensor Weight { get; }
    public Tensor Bias { get; }
    public int Groups { get; }
    public float Eps { get; }

    public GroupNorm(VarBuilder vb, int groups, int channels, float eps = 1e-5f)
    {
        if (channels % groups != 0)
            throw new ArgumentException($"GroupNorm '{vb.Prefix}': {channels} channels do not split into {groups} " +
            $"groups.");
        Weight = vb.Get("weight", new[] { channels }, Init.Ones);
        Bias = vb.Get("bias", new[] { channels }, Init.Zeros);
        Groups = groups; Eps = eps;
    }

    public override Tensor Forward(Tensor x) => Forward(x, silu: false);

    public Tensor Forward(Tensor x, bool silu) => Ops.GroupNorm(x, Groups, Weight, Bias, Eps, silu);
}

/// <summary>torch.nn.LayerNorm over the last dimension.</summary>
public sealed class LayerNorm : Layer
{
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public float Eps { get; }

    public LayerNorm(VarBuilder vb, int dim, float eps = 1e-5f, bool affine = true)
    {
        if (affine)
        {
            Weight = vb.Get("weight", new[] { dim }, Init.Ones);
            Bias = vb.Get("bias", new[] { dim }, Init.Zeros);
        }
        Eps = eps;
    }

    public override Tensor Forward(Tensor x) => Ops.LayerNorm(x, Weight, Bias, Eps);
}

/// <summary>torch.nn.Embedding (key weight [V, D]).</summary>
public sealed class Embedding : Module
{
    public Tensor Weight { get; }

    public Embedding(VarBuilder vb, int count, int dim) =>
        Weight = vb.Get("weight", new[] { count, dim }, Init.Normal(1f));

    public Tensor Forward(int[] ids, params int[] shape) => Ops.Embedding(Weight, ids, shape);
}
