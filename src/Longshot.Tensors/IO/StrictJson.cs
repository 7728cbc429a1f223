using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Longshot.Tensors.IO;

/// <summary>
/// The one way configs are read: the file must hold one JSON object whose every key the type knows (keys starting
/// with "_", diffusers' metadata such as _class_name or _diffusers_version, are allowed) and that has every required
/// field ([JsonRequired]). Anything else, including a missing, empty, binary or truncated file, is a
/// <see cref="LongshotException"/> naming the file and the problem.
/// </summary>
public static class StrictJson
{
    /// <summary>
    /// Reads <paramref name="path"/> as a <typeparamref name="T"/>; <paramref name="what"/> names it in errors, and
    /// <paramref name="validate"/>'s <see cref="LongshotException"/> is reported with the path in front.
    /// </summary>
    public static T Load<T>(string path, string what, JsonSerializerOptions? options = null, Action<T>? validate = null)
        where T : class
    {
        if (!File.Exists(path)) throw new LongshotException($"{path}: {what} not found.");
        return Parse(File.ReadAllText(path), path, what, options, validate);
    }

    /// <summary>Parses <paramref name="json"/> from <paramref name="source"/> as a <typeparamref name="T"/>.</summary>
    public static T Parse<T>(string json, string source, string what, JsonSerializerOptions? options = null,
        Action<T>? validate = null) where T : class
    {
        var value = Deserialize<T>(json, source, what, options);
        try { validate?.Invoke(value); }
        catch (LongshotException e) { throw new LongshotException($"{source}: {e.Message}", e); }
        return value;
    }

    private static T Deserialize<T>(string json, string source, string what,
        JsonSerializerOptions? options) where T : class
    {
        options ??= JsonSerializerOptions.Default;
        try
        {
            using (var doc = JsonDocument.Parse(json))
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new LongshotException($"{source}: not a valid {what} (expected a JSON object, got " +
                        $"{Kind(doc.RootElement)}).");
                CheckKeys(doc.RootElement, typeof(T), options, source, what);
            }
            return JsonSerializer.Deserialize<T>(json, options)
                ?? throw new LongshotException($"{source}: not a valid {what} (null).");
        }
        catch (Exception e)
            when (e is JsonException or FormatException or InvalidOperationException or ArgumentException
                                      or NotSupportedException or OverflowException)
        {
            throw new LongshotException($"{source}: not a valid {what} ({OneLine(e.Message)})", e);
        }
    }

    /// <summary>Unknown keys of an object of type <paramref name="type"/> (nested objects are checked by their
    /// types).</summary>
    private static void CheckKeys(JsonElement obj, Type type, JsonSerializerOptions options, string source, string what)
    {
        options.MakeReadOnly(populateMissingResolver: true);
        var info = options.GetTypeInfo(type);
        if (info.Kind != JsonTypeInfoKind.Object) return;
        var known = info.Properties.ToDictionary(p => p.Name, p => p, StringComparer.Ordinal);
        foreach (var p in obj.EnumerateObject())
        {
            if (p.Name.StartsWith('_')) continue;
            if (!known.TryGetValue(p.Name, out var prop))
                throw new LongshotException($"{source}: not a valid {what} (unknown key \"{p.Name}\"; known: " +
                                            $"{string.Join(", ", known.Keys.Where(k => !k.StartsWith('_')))}).");
            if (p.Value.ValueKind == JsonValueKind.Object) CheckKeys(p.Value, prop.PropertyType, options, source, what);
        }
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Array => "an array", JsonValueKind.String => "a string", JsonValueKind.Number => "a number",
        JsonValueKind.Null => "null", _ => e.ValueKind.ToString().ToLowerInvariant(),
    };

    private static string OneLine(string message)
    {
        var s = message.ReplaceLineEndings(" ");
        // System.Text.Json appends "Path: $ | LineNumber: 0 | ..." — keep it, it says where.
        return s.Length > 300 ? s[..300] + "..." : s;
    }
}
