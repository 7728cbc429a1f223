using System.Text.Json;
using System.Text.Json.Serialization;

namespace Longshot.Diffusion.Svd;

/// <summary>Reads a diffusers setting that is one number for every level or a list with one per level
/// (<c>layers_per_block: 2</c> or <c>[2, 2, 1, 1]</c>); a single number reads as a one-element list.</summary>
public sealed class IntOrListConverter : JsonConverter<int[]>
{
    /// <inheritdoc/>
    public override int[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number) return new[] { reader.GetInt32() };
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException("expected a number or a list of numbers");
        var values = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number)
                throw new JsonException("expected a list of numbers (nested lists are not supported)");
            values.Add(reader.GetInt32());
        }
        return values.ToArray();
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, int[] value, JsonSerializerOptions options)
    {
        if (value.Length == 1) { writer.WriteNumberValue(value[0]); return; }
        writer.WriteStartArray();
        foreach (var v in value) writer.WriteNumberValue(v);
        writer.WriteEndArray();
    }
}
