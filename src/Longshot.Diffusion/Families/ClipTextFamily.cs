using Longshot.Diffusion.Clip;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Families;

/// <summary>A CLIP text encoder folder in Hugging Face's layout (text_encoder/ of the text-to-video models):
/// config.json naming CLIPTextModel and model.safetensors (or a variant), read in place.</summary>
public sealed class ClipTextFamily : ModelFamily<ClipTextModel>
{
    /// <inheritdoc/>
    public override string ClassName => ClipTextConfig.Class;

    /// <inheritdoc/>
    public override string Title => "CLIP text encoder";

    /// <inheritdoc/>
    public override string IndexFile => "config.json";

    /// <inheritdoc/>
    public override ClipTextModel Load(string folder) => ClipTextModel.Mapped(
        ClipTextConfig.Load(Path.Combine(folder, IndexFile)), ComponentWeights.Open(folder, "model"));

    /// <inheritdoc/>
    public override IReadOnlyList<string> ModelMethods => new[] { "forward" };

    /// <summary>forward: input_ids [B, L] (whole numbers) to the last hidden state (sample).</summary>
    public override IReadOnlyDictionary<string, Tensor> RunMethod(string folder, string method,
        IReadOnlyDictionary<string, Tensor> inputs)
    {
        if (method != "forward") return base.RunMethod(folder, method, inputs);
        var ids = Input(inputs, "input_ids", method);
        if (ids.Rank != 2) throw new SettingException("Inputs", "forward: input_ids must be [B, L].");
        var flat = ids.ToArray();
        if (flat.Any(v => v != MathF.Floor(v)))
            throw new SettingException("Inputs", "forward: input_ids must hold whole numbers.");
        int rows = ids.Shape[0], length = ids.Shape[1];
        var batch = Enumerable.Range(0, rows).Select(r => flat.Skip(r * length).Take(length).Select(v => (int)v)
            .ToArray()).ToArray();
        var model = Load(folder);
        using var _ = Tensor.NoGrad();
        return new Dictionary<string, Tensor> { ["sample"] = model.Forward(batch) };
    }
}
