using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Svd;

/// <summary>
/// ExVideo's released extension of Stable Video Diffusion (ECNU-CILab/ExVideo-SVD-128f-v1, model.fp16.safetensors):
/// the post-tuned temporal blocks with their frame tables and positional convolutions, in DiffSynth-Studio's names,
/// loaded on top of SVD-XT's UNet. Every tensor of the file must map onto the base UNet with the same shape.
/// </summary>
public sealed class ExVideoSvdExtension
{
    /// <summary>The file.</summary>
    public SafeTensorsSet Weights { get; }

    /// <summary>Frames of its position tables: the most the extended model generates at once.</summary>
    public int Frames { get; }

    /// <summary>Longshot's (diffusers') parameter name to the file's name.</summary>
    public IReadOnlyDictionary<string, string> Names { get; }

    private ExVideoSvdExtension(SafeTensorsSet weights, int frames, Dictionary<string, string> names)
    {
        Weights = weights; Frames = frames; Names = names;
    }

    /// <summary>Opens an extension for a base UNet config; an <see cref="InputFileException"/> names the file and
    /// what does not fit.</summary>
    public static ExVideoSvdExtension Open(string path, SvdUnetConfig baseConfig)
    {
        if (!File.Exists(path)) throw new InputFileException(path, $"extension file not found: {path}");
        var weights = SafeTensorsSet.Open(path);
        var blocks = DiffSynthSvdNames.BlockNames(baseConfig);
        var names = new Dictionary<string, string>();
        foreach (var key in weights.Keys.Order(StringComparer.Ordinal))
        {
            var ours = DiffSynthSvdNames.ToDiffusers(key, blocks) ?? throw new InputFileException(path,
                $"{path}: '{key}' is not a parameter of this base model's UNet (an extension for another base?).");
            names[ours] = key;
        }
        var tables = names.Where(kv => kv.Key.EndsWith(".time_pos_table", StringComparison.Ordinal))
            .Select(kv => weights.Info(kv.Value).Shape[0]).Distinct().ToList();
        if (tables.Count != 1)
            throw new InputFileException(path, $"{path}: holds no ExVideo frame tables (positional_embedding" +
                ".embeddings), or tables of different lengths: not an ExVideo extension.");
        var extended = baseConfig with { ExtensionFrames = tables[0] };
        var layout = new Tensors.Nn.ParameterStore();
        _ = new SvdUnet(extended, Tensors.Nn.VarBuilder.ShapesOnly(layout));
        foreach (var (ours, key) in names)
        {
            if (!layout.Contains(ours))
                throw new InputFileException(path, $"{path}: '{key}' has no place in this base model's UNet.");
            var want = layout[ours].Shape;
            var have = weights.Info(key).Shape;
            if (!want.SequenceEqual(have))
                throw new InputFileException(path, $"{path}: '{key}' is [{string.Join(", ", have)}], the base model " +
                    $"needs [{string.Join(", ", want)}] (an extension for another base?).");
        }
        return new ExVideoSvdExtension(weights, tables[0], names);
    }

    /// <summary>
    /// An extension as ExVideo's post-tuning starts it, in DiffSynth's names: every transformer's frame table holds
    /// the reflected positions (<see cref="ExVideoPositions"/>) and its positional convolution is the identity, so the
    /// extended model computes what the base model does for up to 25 frames.
    /// </summary>
    public static Dictionary<string, Tensor> Initial(SvdUnetConfig config, int frames)
    {
        var blocks = DiffSynthSvdNames.BlockNames(config);
        var tensors = new Dictionary<string, Tensor>();
        for (int i = 0; i < blocks.Count; i++)
        {
            if (blocks[i] is not { } block || !block.EndsWith(".temporal_transformer_blocks", StringComparison.Ordinal))
                continue;
            var parts = block.Split('.');
            int channels = parts[0] == "mid_block" ? config.BlockOutChannels[^1]
                : parts[0] == "down_blocks" ? config.BlockOutChannels[int.Parse(parts[1])]
                : config.BlockOutChannels[config.Levels - 1 - int.Parse(parts[1])];
            tensors[$"blocks.{i}.positional_embedding.embeddings"] = ExVideoPositions.InitialTable(frames, channels);
            tensors[$"blocks.{i}.positional_conv.weight"] = Tensors.Nn.Init.IdentityConv.Create(
                new[] { channels, channels, 3, 3, 3 }, new Rng(0));
            tensors[$"blocks.{i}.positional_conv.bias"] = Tensor.Zeros(channels);
        }
        return tensors;
    }

    /// <summary>The base UNet with this extension on top: its tensors replace the base's, the rest come from the
    /// base folder's weights, all read in place.</summary>
    public SvdUnet Apply(SvdUnetConfig baseConfig, SafeTensorsSet baseWeights)
    {
        var config = baseConfig with { ExtensionFrames = Frames };
        Tensor? Source(string name) => Names.TryGetValue(name, out var key) ? Weights.LoadMapped(key)
            : baseWeights.Contains(name) ? baseWeights.LoadMapped(name) : null;
        return new SvdUnet(config, Tensors.Nn.VarBuilder.Mapped(new Tensors.Nn.ParameterStore(), Source,
            $"{baseWeights.Path} with {Weights.Path}"));
    }
}
