namespace Longshot.Tensors.Autograd;

/// <summary>
/// Gradient checkpointing: runs a block without recording its graph, then recomputes the block's forward
/// during backward. Memory for a long video then holds only block boundaries, at the cost of one extra forward.
/// The block must be deterministic (draw any randomness before it or from a fixed seed).
/// </summary>
public static class Checkpoint
{
    /// <summary>Runs <paramref name="block"/>(inputs); under gradient mode the forward is recomputed during
    /// backward.</summary>
    public static Tensor Run(Func<Tensor[], Tensor> block, params Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return block(inputs);
        Tensor y;
        using (GradMode.Push(false)) y = block(inputs);
        y = y.Detach();
        y.RequiresGrad = true;
        y.Node = new Node(new CheckpointOp(block, inputs), inputs) { Output = y };
        MixedPrecision.Recorded(y);
        return y;
    }
}
