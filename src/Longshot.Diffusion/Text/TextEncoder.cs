using System.Text.Json;
using System.Text.Json.Serialization;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Text;

/// <summary>config.json of the text encoder.</summary>
public sealed record TextEncoderConfig
{
    [JsonPropertyName("vocab_size"), JsonRequired] public int VocabSize { get; init; }
    [JsonPropertyName("max_position_embeddings"), JsonRequired] public int MaxLength { get; init; } = 48;
    [JsonPropertyName("hidden_size"), JsonRequired] public int Hidden { get; init; } = 128;
    [JsonPropertyName("num_hidden_layers"), JsonRequired] public int Layers { get; init; } = 2;
    [JsonPropertyName("num_attention_heads"), JsonRequired] public int Heads { get; init; } = 4;
    [JsonPropertyName("intermediate_size"), JsonRequired] public int Intermediate { get; init; } = 256;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));
    public static TextEncoderConfig Load(string path)
    {
        var c = StrictJson.Load<TextEncoderConfig>(path, "text encoder config", Json);
        if (c.VocabSize < 5 || c.VocabSize > 10_000_000 || c.MaxLength < 2 || c.MaxLength > 65536 || c.Hidden < 1
            || c.Heads < 1 || c.Hidden % c.Heads != 0 || c.Layers < 1 || c.Layers > 1024 || c.Intermediate < 1)
            throw new LongshotException($"{path}: text encoder config out of range (vocab_size >= 5, " +
                                        "max_position_embeddings >= 2, hidden_size a positive multiple of " +
                                        "num_attention_heads, num_hidden_layers and intermediate_size positive).");
        return c;
    }
}

/// <summary>
/// A small pre-norm transformer text encoder trained jointly with the diffusion model (CLIP's role in NUWA-XL):
/// token + position embeddings, N layers of self-attention and a GELU MLP, a final layer norm; it gives one
/// embedding per token. Padding tokens are masked out of attention.
/// </summary>
public sealed class TextEncoder : Module
{
    public TextEncoderConfig Config { get; }
    private readonly Embedding _tokens, _positions;
    private readonly List<(LayerNorm N1, MultiHeadAttention Attn, LayerNorm N2, Linear Fc1, Linear Fc2)> _layers =
        new();
    private readonly LayerNorm _final;

    public TextEncoder(VarBuilder vb, TextEncoderConfig c)
    {
        Config = c;
        _tokens = Child(new Embedding(vb.Pp("embeddings").Pp("token_embedding"), c.VocabSize, c.Hidden));
        _positions = Child(new Embedding(vb.Pp("embeddings").Pp("position_embedding"), c.MaxLength, c.Hidden));
        for (int i = 0; i < c.Layers; i++)
        {
            var l = vb.Pp("encoder").Pp("layers").Pp(i);
            _layers.Add((Child(new LayerNorm(l.Pp("layer_norm1"), c.Hidden)),
                Child(new MultiHeadAttention(l.Pp("self_attn"), c.Hidden, c.Heads, qkvBias: true)),
                Child(new LayerNorm(l.Pp("layer_norm2"), c.Hidden)),
                    Child(new Linear(l.Pp("mlp").Pp("fc1"), c.Hidden, c.Intermediate)),
                Child(new Linear(l.Pp("mlp").Pp("fc2"), c.Intermediate, c.Hidden))));
        }
        _final = Child(new LayerNorm(vb.Pp("final_layer_norm"), c.Hidden));
    }

    /// <summary>Token ids [B, MaxLength] (flattened) to embeddings [B, MaxLength, Hidden].</summary>
    public Tensor Forward(int[] ids, int batch)
    {
        int l = Config.MaxLength;
        if (ids.Length != batch * l)
            throw new LongshotException($"text encoder: {ids.Length} ids are not {batch} prompts of {l} tokens.");
        var pos = Enumerable.Range(0, batch * l).Select(i => i % l).ToArray();
        var h = _tokens.Forward(ids, batch, l) + _positions.Forward(pos, batch, l);
        // Keys that are padding are blocked (BOS is never padding, so no row is fully blocked).
        var mask = Tensor.FromArray(ids.Select(i => i == WordTokenizer.Pad ? 0f : 1f).ToArray(), batch, 1, 1, l)
            .ToDevice(h.Device);
        foreach (var (n1, attn, n2, fc1, fc2) in _layers)
        {
            h = h + attn.Forward(n1.Forward(h), mask: mask);
            h = h + fc2.Forward(Ops.Gelu(fc1.Forward(n2.Forward(h))));
        }
        return _final.Forward(h);
    }
}
