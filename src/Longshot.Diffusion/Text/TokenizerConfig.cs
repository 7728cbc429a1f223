using System.Text.Json;
using Longshot.Tensors;

namespace Longshot.Diffusion.Text;

/// <summary>
/// What a Hugging Face tokenizer folder says beside its vocabulary: the tokenizer class and length
/// (tokenizer_config.json) and the special tokens (special_tokens_map.json, which wins where both name one). A token
/// is written as a string or as an object with its "content".
/// </summary>
public sealed record TokenizerConfig(string? ClassName, int MaxLength, string? Pad, string? Unknown)
{
    /// <summary>CLIP's text length, used when the folder sets none (or the "no limit" placeholder).</summary>
    public const int DefaultMaxLength = 77;

    /// <summary>Reads the folder's files; missing files leave their settings unset.</summary>
    public static TokenizerConfig Read(string folder)
    {
        var config = Object(Path.Combine(folder, "tokenizer_config.json"));
        var special = Object(Path.Combine(folder, "special_tokens_map.json"));
        string? Token(string name) => TokenOf(special, name) ?? TokenOf(config, name);
        int max = DefaultMaxLength;
        if (config is { } c && c.TryGetProperty("model_max_length", out var m) && m.ValueKind == JsonValueKind.Number
            && m.TryGetDouble(out double v) && v is >= 3 and <= 4096)
            max = (int)v;
        string? cls = config is { } k && k.TryGetProperty("tokenizer_class", out var t)
            && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        return new TokenizerConfig(cls, max, Token("pad_token"), Token("unk_token"));
    }

    private static JsonElement? Object(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var root = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
            return root.ValueKind == JsonValueKind.Object ? root
                : throw new InputFileException(path, $"{path}: expected a JSON object.");
        }
        catch (JsonException e) { throw new InputFileException(path, $"{path}: not valid JSON ({e.Message})"); }
    }

    private static string? TokenOf(JsonElement? obj, string name)
    {
        if (obj is not { } o || !o.TryGetProperty(name, out var t)) return null;
        return t.ValueKind switch
        {
            JsonValueKind.String => t.GetString(),
            JsonValueKind.Object when t.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String
                => c.GetString(),
            _ => null,
        };
    }
}
