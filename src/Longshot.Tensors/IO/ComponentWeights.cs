namespace Longshot.Tensors.IO;

/// <summary>
/// Finds the weights of one component folder in diffusers' layout: <c>NAME.safetensors</c>, its sharded form
/// <c>NAME.safetensors.index.json</c>, or a variant's (<c>NAME.fp16.safetensors</c>, ...). Without a variant the
/// full-precision file is preferred and a variant is used when it is the only one, as a user who downloaded only the
/// fp16 files expects.
/// </summary>
public static class ComponentWeights
{
    /// <summary>diffusers' weight file name for models (transformers components use "model").</summary>
    public const string DiffusersName = "diffusion_pytorch_model";

    /// <summary>The candidate files of a folder, best first.</summary>
    public static IEnumerable<string> Candidates(string folder, string name, string? variant)
    {
        var stems = variant != null ? new[] { $"{name}.{variant}" }
            : new[] { name }.Concat(Directory.Exists(folder)
                ? Directory.EnumerateFiles(folder, $"{name}.*.safetensors*")
                    .Select(f => System.IO.Path.GetFileName(f)!)
                    .Select(f => f[..f.IndexOf(".safetensors", StringComparison.Ordinal)])
                    .Where(s => s.Count(ch => ch == '.') == 1).Distinct().Order(StringComparer.Ordinal)
                : Enumerable.Empty<string>());
        foreach (var stem in stems)
        {
            yield return System.IO.Path.Combine(folder, stem + ".safetensors");
            yield return System.IO.Path.Combine(folder, stem + ".safetensors.index.json");
        }
    }

    /// <summary>The weight file (or index) <see cref="Open"/> would read, or null when there is none.</summary>
    public static string? Find(string folder, string name = DiffusersName, string? variant = null) =>
        Candidates(folder, name, variant).FirstOrDefault(File.Exists);

    /// <summary>Opens a component's weights; an <see cref="InputFileException"/> names the folder when none is
    /// there.</summary>
    public static SafeTensorsSet Open(string folder, string name = DiffusersName, string? variant = null)
    {
        var path = Find(folder, name, variant) ?? throw new InputFileException(folder,
            $"{folder} has no {name}{(variant != null ? "." + variant : "")}.safetensors (or its .index.json " +
            "shards).");
        return SafeTensorsSet.Open(path);
    }
}
