using System.Text.Json;

namespace Longshot.Tensors.IO;

/// <summary>
/// The weights of one model component: a single safetensors file, or the shards a
/// <c>*.safetensors.index.json</c> lists (its "weight_map" names the shard of every tensor). Every shard is opened
/// and checked up front, and every tensor the index names must be in its shard.
/// </summary>
public sealed class SafeTensorsSet : IDisposable
{
    private readonly Dictionary<string, SafeTensorsFile> _fileOf;

    /// <summary>The file opened: the safetensors file or the index.</summary>
    public string Path { get; }

    /// <summary>The shards (one for a single file).</summary>
    public IReadOnlyList<SafeTensorsFile> Files { get; }

    private SafeTensorsSet(string path, IReadOnlyList<SafeTensorsFile> files, Dictionary<string, SafeTensorsFile> of)
    {
        Path = path; Files = files; _fileOf = of;
    }

    /// <summary>Opens a <c>.safetensors</c> file or a <c>.safetensors.index.json</c>; problems are
    /// <see cref="SafeTensorsFormatException"/>s naming the file.</summary>
    public static SafeTensorsSet Open(string path)
    {
        if (!path.EndsWith(".index.json", StringComparison.Ordinal))
        {
            var file = SafeTensorsFile.Open(path);
            return new SafeTensorsSet(path, new[] { file }, file.Keys.ToDictionary(k => k, _ => file));
        }
        var map = ReadWeightMap(path);
        var dir = System.IO.Path.GetDirectoryName(path) ?? ".";
        var shards = new Dictionary<string, SafeTensorsFile>();
        var of = new Dictionary<string, SafeTensorsFile>();
        try
        {
            foreach (var (name, shard) in map)
            {
                if (!shards.TryGetValue(shard, out var file))
                {
                    var shardPath = System.IO.Path.Combine(dir, shard);
                    if (shard.Contains('/') || shard.Contains('\\') || !System.IO.File.Exists(shardPath))
                        throw new SafeTensorsFormatException($"{path}: names the shard '{shard}', which is not in " +
                            $"{dir}.");
                    shards[shard] = file = SafeTensorsFile.Open(shardPath);
                }
                if (!file.Contains(name))
                    throw new SafeTensorsFormatException($"{file.Path}: has no tensor '{name}', which {path} places " +
                        "there.");
                of[name] = file;
            }
        }
        catch
        {
            foreach (var f in shards.Values) f.Dispose();
            throw;
        }
        return new SafeTensorsSet(path, shards.Values.ToList(), of);
    }

    private static Dictionary<string, string> ReadWeightMap(string path)
    {
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"safetensors index not found: {path}", path);
        try
        {
            using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var wm) || wm.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException($"{path}: not a safetensors index (no \"weight_map\" object).");
            var map = new Dictionary<string, string>();
            foreach (var p in wm.EnumerateObject())
                map[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()!
                    : throw new SafeTensorsFormatException($"{path}: weight_map entry '{p.Name}' is not a file name.");
            return map;
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException($"{path}: not valid JSON ({e.Message}).");
        }
    }

    /// <summary>Names of every tensor.</summary>
    public IReadOnlyCollection<string> Keys => _fileOf.Keys;

    /// <summary>Whether a tensor of that name is stored.</summary>
    public bool Contains(string name) => _fileOf.ContainsKey(name);

    /// <summary>The header entry of one tensor.</summary>
    public TensorInfo Info(string name) => File(name).Info(name);

    /// <summary>The shard holding <paramref name="name"/>.</summary>
    public SafeTensorsFile File(string name) =>
        _fileOf.TryGetValue(name, out var f) ? f : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'.");

    /// <summary>One tensor read in place (see <see cref="SafeTensorsFile.LoadMapped"/>).</summary>
    public Tensor LoadMapped(string name) => File(name).LoadMapped(name);

    /// <summary>One tensor copied to float32.</summary>
    public Tensor Load(string name) => File(name).Load(name);

    /// <summary>The stored types, with how many elements each holds.</summary>
    public IReadOnlyDictionary<DType, long> ElementsByType() => _fileOf.Keys.Select(Info)
        .GroupBy(i => i.DType).ToDictionary(g => g.Key, g => g.Sum(i => (long)ShapeUtil.Numel(i.Shape)));

    public void Dispose()
    {
        foreach (var f in Files) f.Dispose();
    }
}
