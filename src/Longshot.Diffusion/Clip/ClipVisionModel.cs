using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Clip;

/// <summary>
/// Hugging Face's CLIPVisionModelWithProjection with its weight names: patch embedding plus a class token and
/// learned positions, pre-norm ("pre_layrnorm", as spelled in the files), the encoder layers, the class token's
/// post-norm and the visual projection. Stable Video Diffusion conditions on its image embedding.
/// </summary>
public sealed class ClipVisionModel : Module
{
    private readonly Tensor _classEmbedding, _patchEmbedding, _positions;
    private readonly LayerNorm _preNorm, _postNorm;
    private readonly ClipEncoderLayer[] _layers;
    private readonly Linear _projection;

    /// <summary>The settings it was built from.</summary>
    public ClipVisionConfig Config { get; }

    /// <summary>Its weights by Hugging Face name.</summary>
    public ParameterStore Parameters { get; }

    /// <summary>Keys Hugging Face files may hold that are not weights (older transformers saved them).</summary>
    public static readonly IReadOnlyList<string> Buffers = new[] { "vision_model.embeddings.position_ids" };

    public ClipVisionModel(ClipVisionConfig config, VarBuilder vb)
    {
        config.Validate();
        Config = config;
        Parameters = vb.Store;
        int d = config.HiddenSize, p = config.PatchSize;
        var vision = vb.Pp("vision_model");
        var embeddings = vision.Pp("embeddings");
        _classEmbedding = embeddings.Get("class_embedding", new[] { d }, Init.Normal(1f));
        _patchEmbedding = embeddings.Pp("patch_embedding").Get("weight", new[] { d, config.NumChannels, p, p },
            Init.TorchDefault);
        _positions = embeddings.Pp("position_embedding").Get("weight", new[] { config.Grid * config.Grid + 1, d },
            Init.Normal(0.02f));
        _preNorm = Child(new LayerNorm(vision.Pp("pre_layrnorm"), d, config.LayerNormEps));
        _layers = Enumerable.Range(0, config.NumHiddenLayers).Select(i => Child(new ClipEncoderLayer(
            vision.Pp("encoder").Pp("layers").Pp(i), d, config.NumAttentionHeads, config.IntermediateSize,
            config.LayerNormEps, config.HiddenAct))).ToArray();
        _postNorm = Child(new LayerNorm(vision.Pp("post_layernorm"), d, config.LayerNormEps));
        _projection = Child(new Linear(vb.Pp("visual_projection"), d, config.ProjectionDim, bias: false));
        Eval();
    }

    /// <summary>A model with fresh random weights (tests and benchmarks).</summary>
    public static ClipVisionModel Random(ClipVisionConfig config, ulong seed = 0) =>
        new(config, VarBuilder.Fresh(new ParameterStore(), seed));

    /// <summary>The model over <paramref name="weights"/>, read in place; an unused tensor (other than the
    /// position ids buffer) is an error naming its file.</summary>
    public static ClipVisionModel Mapped(ClipVisionConfig config, SafeTensorsSet weights)
    {
        var model = new ClipVisionModel(config, VarBuilder.Mapped(new ParameterStore(), weights));
        MappedModel.RequireAllUsed(weights, model.Parameters, ClipVisionConfig.Class, Buffers);
        return model;
    }

    /// <summary>Image embeddings [B, projection_dim] of normalised pixels [B, 3, image_size, image_size].</summary>
    public Tensor Forward(Tensor pixels)
    {
        int size = Config.ImageSize;
        if (pixels.Rank != 4 || pixels.Shape[1] != Config.NumChannels || pixels.Shape[2] != size
            || pixels.Shape[3] != size)
            throw new ArgumentException($"CLIP vision: expected [B, {Config.NumChannels}, {size}, {size}], got " +
                $"[{string.Join(", ", pixels.Shape)}].");
        int b = pixels.Shape[0], d = Config.HiddenSize;
        // 1. Patches, the class token first, plus positions.
        var patches = Ops.Conv2d(pixels, _patchEmbedding, null, Config.PatchSize);
        patches = patches.Reshape(b, d, -1).Transpose(1, 2);
        var cls = _classEmbedding.Reshape(1, 1, d).Expand(b, 1, d);
        var x = Ops.Concat(new[] { cls, patches }, 1) + _positions.Unsqueeze(0);
        // 2. The encoder.
        x = _preNorm.Forward(x);
        foreach (var layer in _layers) x = layer.Forward(x);
        // 3. The class token, normalised and projected.
        return _projection.Forward(_postNorm.Forward(x.Narrow(1, 0, 1).Squeeze(1)));
    }
}
