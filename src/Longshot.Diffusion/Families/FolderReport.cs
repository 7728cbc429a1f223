using System.Text.Json;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Families;

/// <summary>One component of a model folder: its class, weight file, parameter count and stored types.</summary>
public sealed record ComponentReport(string Name, string? ClassName, string? WeightFile, long Parameters,
    IReadOnlyDictionary<DType, long> ElementsByType);

/// <summary>
/// What `longshot model info` shows for a folder: its family, what Longshot runs with it, and each component with
/// its parameters and stored types, read from the index files and the safetensors headers only (nothing is
/// loaded).
/// </summary>
public sealed record FolderReport(string Folder, ModelFamily Family, IReadOnlyList<ComponentReport> Components)
{
    /// <summary>Weight file stems diffusers and transformers use.</summary>
    private static readonly string[] WeightNames = { ComponentWeights.DiffusersName, "model" };

    /// <summary>Describes a model folder; an <see cref="InputFileException"/> names a folder no family loads.</summary>
    public static FolderReport Describe(string folder, string? variant = null)
    {
        var family = ModelFamilies.Find(folder) ?? throw new InputFileException(folder,
            $"{folder}: its index file names no model class.");
        var components = new List<ComponentReport>();
        if (family.IndexFile == "model_index.json")
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "model_index.json")));
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name.StartsWith('_') || p.Value.ValueKind != JsonValueKind.Array) continue;
                var sub = Path.Combine(folder, p.Name);
                string? cls = p.Value.GetArrayLength() == 2 ? p.Value[1].GetString() : null;
                components.Add(Component(p.Name, sub, cls, variant));
            }
        }
        else components.Add(Component(".", folder, family.ClassName, variant));
        return new FolderReport(folder, family, components);
    }

    private static ComponentReport Component(string name, string folder, string? cls, string? variant)
    {
        var file = WeightNames.Select(n => ComponentWeights.Find(folder, n, variant)).FirstOrDefault(f => f != null);
        if (file == null) return new ComponentReport(name, cls, null, 0, new Dictionary<DType, long>());
        using var weights = SafeTensorsSet.Open(file);
        var byType = weights.ElementsByType();
        return new ComponentReport(name, cls, Path.GetFileName(file), byType.Values.Sum(), byType);
    }
}
