using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet;

/// <summary>
/// What a temporal block adds to each frame before its attention, when the model has it: Stable Video Diffusion's
/// absolute frame embedding (the base model), ExVideo's trainable position table in its place (the extended model),
/// and ExVideo's identity-initialised 3D convolution adapter. A model without any of them has none of this.
/// </summary>
public sealed class FrameInputs : Module
{
    private readonly FramePositionEmbedding? _embedding;
    private readonly FramePositionTable? _table;
    private readonly TemporalAdapter3d? _adapter;

    private FrameInputs(FramePositionEmbedding? embedding, FramePositionTable? table, TemporalAdapter3d? adapter)
    {
        if (embedding != null) _embedding = Child(embedding);
        if (table != null) _table = Child(table);
        if (adapter != null) _adapter = Child(adapter);
    }

    /// <summary>The frame inputs the config asks for, or null when it asks for none.</summary>
    public static FrameInputs? Create(VarBuilder vb, int channels, MaskUnetConfig cfg) =>
        cfg.FramePositionEmbedding || cfg.FramePositionTable > 0 || cfg.TemporalAdapter
            ? new FrameInputs(
                cfg.FramePositionEmbedding ? new FramePositionEmbedding(vb.Pp("pos_embed"), channels) : null,
                cfg.FramePositionTable > 0
                    ? new FramePositionTable(vb.Pp("pos_table"), cfg.FramePositionTable, channels) : null,
                cfg.TemporalAdapter ? new TemporalAdapter3d(vb.Pp("adapter"), channels) : null)
            : null;

    /// <summary>ExVideo's position table, or null.</summary>
    public FramePositionTable? Table => _table;

    /// <summary>The frame embedding of slots <paramref name="index"/> (what ExVideo's table starts from), or
    /// null.</summary>
    public Tensor? Embedding(int[] index) => _embedding?.Forward(index);

    /// <summary>[N, C, H, W] frames of videos of <paramref name="frames"/> frames, with their positions added and
    /// the adapter applied.</summary>
    public Tensor Forward(Tensor y, int frames)
    {
        var pos = _embedding?.Forward(Enumerable.Range(0, frames).ToArray()) ?? _table?.Forward(frames);
        if (pos != null)
        {
            int n = y.Shape[0], c = y.Shape[1], hh = y.Shape[2], ww = y.Shape[3];
            y = (y.Reshape(n / frames, frames, c, hh * ww) + pos.Reshape(1, frames, c, 1)).Reshape(n, c, hh, ww);
        }
        return _adapter?.Forward(y, frames) ?? y;
    }
}
