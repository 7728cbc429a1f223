using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Unet;
using Longshot.Tensors;

namespace Longshot.Diffusion.ExVideo;

/// <summary>What an ExVideo extension adds and trains (the defaults are ExVideo's; the others are its
/// ablations).</summary>
/// <param name="Frames">Frames the extended model runs at once (the rows of each position table).</param>
/// <param name="BaseLength">Frames the base model was trained on (the position map reflects within them).</param>
/// <param name="Adapter">Add the identity-initialised 3x3x3 convolution before every temporal attention.</param>
/// <param name="TrainTable">Train the position tables (false: they stay the base embedding's values).</param>
public sealed record ExVideoSettings(int Frames, int BaseLength = 16, bool Adapter = true, bool TrainTable = true)
{
    /// <summary>Throws <see cref="LongshotException"/> when the settings cannot extend anything.</summary>
    public ExVideoSettings Validate()
    {
        ExVideoPositions.Map(0, BaseLength);   // the base must be long enough to reflect within
        if (Frames <= BaseLength)
            throw new LongshotException($"ExVideo: {Frames} frames is not longer than the base's {BaseLength}.");
        return this;
    }
}

/// <summary>
/// ExVideo's post-tuning set-up: from a base model with an absolute frame-index embedding in its temporal blocks,
/// an extended model whose temporal blocks each get a trainable position table of <see cref="ExVideoSettings.Frames"/>
/// rows (row f starts as the base embedding of slot <see cref="ExVideoPositions.Map"/>(f)) and the identity 3D
/// adapter; every other weight is copied from the base model and frozen. At its start the extended model gives the
/// base model's output on the base length.
/// </summary>
public static class ExVideoExtension
{
    /// <summary>The extended model (fresh parameter store; the base model is left as it was).</summary>
    public static MtdPipelineParts Extend(MtdPipelineParts baseModel, ExVideoSettings s)
    {
        var cfg = baseModel.Unet.Config;
        if (!cfg.FramePositionEmbedding)
            throw new LongshotException("ExVideo: the base model has no frame position embedding to extend " +
                "(train it with `longshot train base`).");
        s.Validate();
        var extended = MtdPipelineParts.Create(cfg with
            {
                FramePositionEmbedding = false, FramePositionTable = s.Frames, TemporalAdapter = s.Adapter,
                NumFrames = s.Frames,
            }, baseModel.TextEncoder.Config, baseModel.Tokenizer, baseModel.Schedule.Config, 1);
        extended.Parameters.Load(baseModel.Parameters.StateDict(), strict: false);
        using (Tensor.NoGrad())
        {
            var slots = Enumerable.Range(0, s.Frames).Select(f => ExVideoPositions.Map(f, s.BaseLength)).ToArray();
            foreach (var (from, to) in baseModel.Unet.AttentionStacks.Zip(extended.Unet.AttentionStacks))
                to.PositionTable!.Weight.CopyFrom(from.PositionEmbedding(slots)!);
        }
        Freeze(extended, s.TrainTable);
        return extended;
    }

    /// <summary>True for the parameters ExVideo trains: everything in a temporal attention block.</summary>
    public static bool IsTemporalBlock(string name) => name.Contains(".temporal_attentions.", StringComparison.Ordinal);

    /// <summary>Freezes every parameter outside the temporal attention blocks (and the tables unless
    /// <paramref name="trainTable"/>).</summary>
    public static void Freeze(MtdPipelineParts parts, bool trainTable = true)
    {
        foreach (var (name, p) in parts.Parameters.Named)
            p.SetRequiresGrad(IsTemporalBlock(name)
                && (trainTable || !name.Contains(".pos_table.", StringComparison.Ordinal)));
    }
}
