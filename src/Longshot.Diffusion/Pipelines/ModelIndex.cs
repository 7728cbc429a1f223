using System.Text.Json;
using Longshot.Tensors;

namespace Longshot.Diffusion.Pipelines;

/// <summary>A published pipeline folder's model_index.json: which component folders it names, of which
/// classes.</summary>
public static class ModelIndex
{
    /// <summary>
    /// Checks that <paramref name="folder"/>'s model_index.json names every component (with its class where one is
    /// given) and that their folders exist; an <see cref="InputFileException"/> names the file and the component.
    /// </summary>
    public static void Check(string folder, IEnumerable<(string Name, string? Class)> components)
    {
        var index = Path.Combine(folder, "model_index.json");
        if (!File.Exists(index)) throw new InputFileException(folder, $"{folder} has no model_index.json.");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(index)); }
        catch (JsonException e)
        {
            throw new InputFileException(index, $"{index} is not valid JSON ({e.Message.TrimEnd('.')}).");
        }
        using (doc)
            foreach (var (name, cls) in components)
            {
                if (!doc.RootElement.TryGetProperty(name, out var entry) || entry.ValueKind != JsonValueKind.Array
                    || entry.GetArrayLength() != 2 || (cls != null && entry[1].GetString() != cls))
                    throw new InputFileException(index, cls == null ? $"{index}: \"{name}\" is missing."
                        : $"{index}: \"{name}\" must name {cls}.");
                if (!Directory.Exists(Path.Combine(folder, name)))
                    throw new InputFileException(folder, $"{folder}: the {name}/ folder model_index.json names is " +
                        "missing.");
            }
    }
}
