using Longshot.Diffusion.Layers;
using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet;

/// <summary>
/// The attention stack of an MTD block: the spatial transformer (self-attention over each frame's pixels, prompt
/// cross-attention, feed-forward), then the temporal transformer over each pixel's frames. Weights: the spatial half
/// under "attentions.J", the temporal half under "temporal_attentions.J".
/// </summary>
public sealed class AttentionStack : Module
{
    public AttentionStack(VarBuilder vb, VarBuilder temporalVb, int channels, MaskUnetConfig cfg)
    {
        Spatial = Child(new SpatialTransformer(vb, channels, cfg));
        Temporal = Child(new TemporalTransformer(temporalVb, channels, cfg));
    }

    /// <summary>Self-attention, prompt cross-attention and feed-forward over each frame.</summary>
    public SpatialTransformer Spatial { get; }

    /// <summary>Attention over each pixel's frames.</summary>
    public TemporalTransformer Temporal { get; }

    /// <summary>ExVideo's position table of this block, or null.</summary>
    public FramePositionTable? PositionTable => Temporal.FrameInputs?.Table;

    /// <summary>The base model's frame embedding of slots <paramref name="index"/> (for ExVideo's table), or
    /// null.</summary>
    public Tensor? PositionEmbedding(int[] index) => Temporal.FrameInputs?.Embedding(index);

    /// <param name="prompts">[N, l_p, d_p]: frame i attends to the prompt of frame i.</param>
    /// <param name="positions">True frame indices (length = frames), shared by every video of the batch.</param>
    /// <param name="scope">A local window and the exchange with neighbouring clips; null: full attention.</param>
    /// <param name="timestep">The call's timestep (the scope's key bias depends on it).</param>
    public Tensor Forward(Tensor h, Tensor prompts, int frames, int[] positions, TemporalScope? scope = null,
        int timestep = 0) =>
        Temporal.Forward(Spatial.Forward(h, prompts), frames, positions, scope, timestep);
}
