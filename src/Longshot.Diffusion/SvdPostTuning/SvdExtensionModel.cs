using Longshot.Diffusion.Svd;
using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.SvdPostTuning;

/// <summary>
/// The UNet ExVideo post-tunes: a published SVD UNet extended to <see cref="Frames"/> frames, whose temporal blocks
/// (DiffSynth-Studio's TemporalAttentionBlocks: the temporal transformer block, the frame table, its MLP and the
/// positional convolution) are float32 copies that train, while every other weight stays in its file, mapped and
/// frozen. The frame tables start at the reflected positions and the convolutions at the identity, so the model
/// starts as the base model on its own frame count.
/// </summary>
public sealed class SvdExtensionModel
{
    /// <summary>The extended UNet.</summary>
    public SvdUnet Unet { get; }

    /// <summary>The weights that train, by diffusers name (shared with <see cref="Unet"/>).</summary>
    public ParameterStore Trainable { get; }

    /// <summary>Frames of the frame tables.</summary>
    public int Frames { get; }

    /// <summary>Each trainable weight's name in DiffSynth's layout (the names the published extension uses).</summary>
    public IReadOnlyDictionary<string, string> DiffSynthNames { get; }

    private SvdExtensionModel(SvdUnet unet, ParameterStore trainable, int frames, Dictionary<string, string> names)
    {
        Unet = unet; Trainable = trainable; Frames = frames; DiffSynthNames = names;
    }

    /// <summary>Extends a published UNet (without an extension of its own) to <paramref name="frames"/>
    /// frames.</summary>
    public static SvdExtensionModel Create(SvdUnet baseUnet, int frames)
    {
        var baseConfig = baseUnet.Config;
        if (baseConfig.ExtensionFrames != null)
            throw new SettingException("Model", "the UNet already carries an ExVideo extension; post-tuning starts " +
                "from the published model.");
        if (baseConfig.TransformerLayersPerBlock.Any(n => n != 1))
            throw new SettingException("Model", "DiffSynth's layout (the published extension's) has one temporal " +
                "layer per transformer; this UNet has more.");
        if (frames < 2 || frames > 1024)
            throw new SettingException("Frames", $"the extension's frames must be between 2 and 1024, got {frames}.");
        var config = baseConfig with { ExtensionFrames = frames };
        var blocks = DiffSynthSvdNames.BlockNames(baseConfig);
        var initial = ExVideoSvdExtension.Initial(baseConfig, frames)
            .ToDictionary(kv => DiffSynthSvdNames.ToDiffusers(kv.Key, blocks)!, kv => kv.Value);
        var names = new Dictionary<string, string>();
        Tensor? Source(string name)
        {
            if (DiffSynthSvdNames.TemporalBlockName(name, blocks) is not { } theirs)
                return baseUnet.Parameters.Contains(name) ? baseUnet.Parameters[name] : null;
            names[name] = theirs;
            // A float32 tensor that trains: the extension's new weights at their start, the rest copied from the base.
            return initial.Remove(name, out var start) ? start
                : baseUnet.Parameters.Contains(name) ? baseUnet.Parameters[name].Clone() : null;
        }
        var unet = new SvdUnet(config, VarBuilder.Mapped(new ParameterStore(), Source, "the base UNet"));
        unet.Parameters.TrainOnly(names.ContainsKey);
        unet.Train();
        return new SvdExtensionModel(unet, unet.Parameters.Subset(names.ContainsKey), frames, names);
    }

    /// <summary>
    /// Writes the trainable weights (or <paramref name="weights"/> by diffusers name, e.g. their EMA) as an
    /// extension file in the published layout: DiffSynth's names, float16, atomically.
    /// </summary>
    public void Save(string path, IReadOnlyDictionary<string, Tensor>? weights = null)
    {
        var tensors = Trainable.Named.ToDictionary(p => DiffSynthNames[p.Name],
            p => weights != null && weights.TryGetValue(p.Name, out var w) ? w : p.Value.Detach());
        Tensors.IO.SafeTensors.Save(path, tensors, Tensors.IO.DType.F16,
            new Dictionary<string, string> { ["format"] = "pt", ["frames"] = Frames.ToString(
                System.Globalization.CultureInfo.InvariantCulture) });
    }
}
