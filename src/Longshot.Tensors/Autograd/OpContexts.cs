using Longshot.Tensors.Devices;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors.Autograd;

/// <summary>
/// What one recorded op keeps for its backward rule: a record per op kind, so the compiler checks every field a rule
/// reads. A rule picks its device or host form by the device of the gradient, never by which record it got; state
/// that only one form saves (the host kernels' statistics, a device's log-sum-exp) is a field of its own.
/// </summary>
internal abstract record OpCtx
{
    /// <summary>The op's kind (the closed set in <see cref="OpKind"/>; the profiler counts by it).</summary>
    public abstract OpKind Kind { get; }
}

/// <summary>Ops whose rule reads only their inputs and output: arithmetic, activations, matmul, linear, reshape,
/// expand, contiguous, the MSE loss and bfloat16 rounding.</summary>
internal sealed record PlainOp(OpKind Op) : OpCtx
{
    public override OpKind Kind => Op;
}

/// <summary>x * factor.</summary>
internal sealed record MulScalarOp(float Factor) : OpCtx { public override OpKind Kind => OpKind.MulScalar; }

/// <summary>x ^ exponent.</summary>
internal sealed record PowScalarOp(float Exponent) : OpCtx { public override OpKind Kind => OpKind.PowScalar; }

/// <summary>A sum over <paramref name="Dims"/> of an input of shape <paramref name="InShape"/>.</summary>
internal sealed record SumOp(int[] Dims, bool KeepDim, int[] InShape) : OpCtx
{
    public override OpKind Kind => OpKind.Sum;
}

/// <summary>A maximum along <paramref name="Dim"/>: where each maximum came from.</summary>
internal sealed record MaxOp(int Dim, int[] ArgMax) : OpCtx { public override OpKind Kind => OpKind.Max; }

/// <summary>Softmax along <paramref name="Dim"/>.</summary>
internal sealed record SoftmaxOp(int Dim) : OpCtx { public override OpKind Kind => OpKind.Softmax; }

/// <summary>Log-softmax along <paramref name="Dim"/>.</summary>
internal sealed record LogSoftmaxOp(int Dim) : OpCtx { public override OpKind Kind => OpKind.LogSoftmax; }

/// <summary>A convolution; its geometry gives both forms their stride and padding.</summary>
internal sealed record ConvOp(ConvGeometry Geometry) : OpCtx
{
    public override OpKind Kind => OpKind.Conv;

    public DeviceOps.ConvCtx OnDevice => new(new[] { Geometry.SD, Geometry.SH, Geometry.SW },
        new[] { Geometry.PD, Geometry.PH, Geometry.PW });
}

/// <summary>A transposed convolution; <paramref name="Geometry"/> is the ordinary convolution from its output back to
/// its input.</summary>
internal sealed record ConvTransposeOp(ConvGeometry Geometry) : OpCtx
{
    public override OpKind Kind => OpKind.ConvTranspose;

    public DeviceOps.ConvTransposeCtx OnDevice => new(new[] { Geometry.SD, Geometry.SH, Geometry.SW },
        new[] { Geometry.PD, Geometry.PH, Geometry.PW }, new[] { Geometry.D, Geometry.H, Geometry.W });
}

/// <summary>Nearest upsampling by <paramref name="Factors"/> (depth, height, width).</summary>
internal sealed record UpsampleNearestOp(int[] Factors) : OpCtx
{
    public override OpKind Kind => OpKind.UpsampleNearest;
}

/// <summary>Average pooling over <paramref name="Kernel"/> (depth, height, width).</summary>
internal sealed record AvgPoolOp(int[] Kernel) : OpCtx { public override OpKind Kind => OpKind.AvgPool; }

/// <summary>Group norm (with a fused SiLU); <paramref name="HostStatistics"/>: what the host kernel saved (a device
/// recomputes them).</summary>
internal sealed record GroupNormOp(int Groups, float Eps, bool Silu, NormKernel.GroupCtx? HostStatistics) : OpCtx
{
    public override OpKind Kind => OpKind.GroupNorm;
}

/// <summary>Layer norm; <paramref name="HostStatistics"/>: what the host kernel saved (a device recomputes
/// them).</summary>
internal sealed record LayerNormOp(float Eps, bool HasGamma, bool HasBeta, NormKernel.LayerCtx? HostStatistics)
    : OpCtx
{
    public override OpKind Kind => OpKind.LayerNorm;
}

/// <summary>Rows <paramref name="Ids"/> of an embedding table.</summary>
internal sealed record EmbeddingOp(int[] Ids) : OpCtx { public override OpKind Kind => OpKind.Embedding; }

/// <summary>Inputs concatenated along <paramref name="Dim"/>.</summary>
internal sealed record ConcatOp(int Dim) : OpCtx { public override OpKind Kind => OpKind.Concat; }

/// <summary>A slice of <paramref name="Dim"/> from <paramref name="Start"/>.</summary>
internal sealed record NarrowOp(int Dim, int Start) : OpCtx { public override OpKind Kind => OpKind.Narrow; }

/// <summary>Padding; <paramref name="Pads"/> as the op was given them, <paramref name="HostMaps"/> the host kernel's
/// index maps (reflect and replicate modes).</summary>
internal sealed record PadOp(int[] Pads, PadKernel.Ctx? HostMaps) : OpCtx { public override OpKind Kind => OpKind.Pad; }

/// <summary>Dimensions reordered as <paramref name="Order"/>.</summary>
internal sealed record PermuteOp(int[] Order) : OpCtx { public override OpKind Kind => OpKind.Permute; }

/// <summary>Dropout's kept-and-scaled mask.</summary>
internal sealed record DropoutOp(float[] Mask) : OpCtx { public override OpKind Kind => OpKind.Dropout; }

/// <summary>Fused attention; the saved log-sum-exp is the host kernel's (<paramref name="Host"/>) or the device's
/// (<paramref name="OnDevice"/>), whichever ran the forward.</summary>
internal sealed record AttentionOp(FlashAttention.Ctx? Host, DeviceOps.AttentionCtx? OnDevice) : OpCtx
{
    public override OpKind Kind => OpKind.Attention;
}

/// <summary>A checkpointed block: it is run again, recorded, during backward.</summary>
internal sealed record CheckpointOp(Func<Tensor[], Tensor> Block, Tensor[] Inputs) : OpCtx
{
    public override OpKind Kind => OpKind.Checkpoint;

    /// <summary>Recomputes the block with gradients and hands its inputs' (and parameters') gradients to
    /// <paramref name="store"/>.</summary>
    public void Backward(Tensor g, GradStore store)
    {
        var detached = Inputs.Select(t => t.Detach().SetRequiresGrad(t.RequiresGrad)).ToArray();
        Tensor outT;
        using (GradMode.Push(true)) outT = Block(detached);
        if (!outT.RequiresGrad) return;
        var inner = Autograd.Backward.Run(outT, g);
        for (int i = 0; i < Inputs.Length; i++)
        {
            var gi = inner.Take(detached[i]);
            if (gi != null && Inputs[i].RequiresGrad) store.Accumulate(Inputs[i], gi);
        }
        store.Merge(inner); // parameters used inside the block
    }
}
