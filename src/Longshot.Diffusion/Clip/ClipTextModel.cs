using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Clip;

/// <summary>
/// Hugging Face's CLIPTextModel with its weight names: token and position embeddings, the encoder layers under a
/// causal mask, and the final layer norm; its output is the last hidden state [B, L, D], the cross-attention context
/// of the text-to-video UNets.
/// </summary>
public sealed class ClipTextModel : Module
{
    private readonly Embedding _tokens;
    private readonly Tensor _positions;
    private readonly ClipEncoderLayer[] _layers;
    private readonly LayerNorm _finalNorm;

    /// <summary>The settings it was built from.</summary>
    public ClipTextConfig Config { get; }

    /// <summary>Its weights by Hugging Face name.</summary>
    public ParameterStore Parameters { get; }

    /// <summary>Keys Hugging Face files may hold that are not weights (older transformers saved them).</summary>
    public static readonly IReadOnlyList<string> Buffers = new[] { "text_model.embeddings.position_ids" };

    public ClipTextModel(ClipTextConfig config, VarBuilder vb)
    {
        config.Validate();
        Config = config;
        Parameters = vb.Store;
        var text = vb.Pp("text_model");
        var embeddings = text.Pp("embeddings");
        _tokens = Child(new Embedding(embeddings.Pp("token_embedding"), config.VocabSize, config.HiddenSize));
        _positions = embeddings.Pp("position_embedding").Get("weight",
            new[] { config.MaxPositionEmbeddings, config.HiddenSize }, Init.Normal(0.01f));
        _layers = Enumerable.Range(0, config.NumHiddenLayers).Select(i => Child(new ClipEncoderLayer(
            text.Pp("encoder").Pp("layers").Pp(i), config.HiddenSize, config.NumAttentionHeads,
            config.IntermediateSize, config.LayerNormEps, config.HiddenAct))).ToArray();
        _finalNorm = Child(new LayerNorm(text.Pp("final_layer_norm"), config.HiddenSize, config.LayerNormEps));
        Eval();
    }

    /// <summary>The model over <paramref name="weights"/>, read in place; an unused tensor (other than the
    /// position ids buffer) is an error naming its file.</summary>
    public static ClipTextModel Mapped(ClipTextConfig config, SafeTensorsSet weights)
    {
        var model = new ClipTextModel(config, VarBuilder.Mapped(new ParameterStore(), weights));
        MappedModel.RequireAllUsed(weights, model.Parameters, ClipTextConfig.Class, Buffers);
        return model;
    }

    /// <summary>The last hidden state [B, L, D] of token ids [B][L] (L at most max_position_embeddings).</summary>
    public Tensor Forward(int[][] ids)
    {
        int b = ids.Length, l = ids.Length == 0 ? 0 : ids[0].Length, d = Config.HiddenSize;
        if (b == 0 || l == 0 || l > Config.MaxPositionEmbeddings || ids.Any(row => row.Length != l))
            throw new ArgumentException($"CLIP text: give one or more rows of 1 to {Config.MaxPositionEmbeddings} " +
                "token ids, all of the same length.");
        if (ids.SelectMany(row => row).Any(id => id < 0 || id >= Config.VocabSize))
            throw new ArgumentException($"CLIP text: token ids must be in [0, {Config.VocabSize}).");
        // 1. Token embeddings plus the first L positions.
        var x = _tokens.Forward(ids.SelectMany(row => row).ToArray(), b, l) + _positions.Narrow(0, 0, l).Unsqueeze(0);
        // 2. The encoder under a causal mask (each token sees itself and those before it).
        var mask = new float[l * l];
        for (int i = 0; i < l; i++)
            for (int j = i + 1; j < l; j++) mask[i * l + j] = float.NegativeInfinity;
        var causal = Tensor.FromArray(mask, 1, 1, l, l);
        foreach (var layer in _layers) x = layer.Forward(x, causal);
        // 3. The final norm.
        return _finalNorm.Forward(x);
    }
}
