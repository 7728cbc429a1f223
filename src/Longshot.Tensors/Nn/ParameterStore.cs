using Longshot.Tensors.IO;

namespace Longshot.Tensors.Nn;

/// <summary>What a load found: keys the model wanted but the file lacked, keys the file had but the model did not, and
/// shape conflicts.</summary>
public sealed record LoadReport(IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> Mismatched)
{
    /// <summary>True when every key matched in name and shape.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0;

    /// <inheritdoc/>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Missing.Count > 0) parts.Add($"missing keys ({Missing.Count}): {string.Join(", " +
            "", Missing.Take(20))}{(Missing.Count > 20 ? ", ..." : "")}");
        if (Unexpected.Count > 0) parts.Add($"unexpected keys ({Unexpected.Count}): {string.Join(", " +
            "", Unexpected.Take(20))}{(Unexpected.Count > 20 ? ", ..." : "")}");
        if (Mismatched.Count > 0) parts.Add($"mis-shaped keys ({Mismatched.Count}): {string.Join("; " +
            "", Mismatched.Take(20))}");
        return parts.Count == 0 ? "all keys matched" : string.Join("\n", parts);
    }
}

/// <summary>Raised by a strict load that did not match exactly; the report lists every problem.</summary>
public sealed class StateDictMismatchException(LoadReport report, string source)
    : LongshotException($"Weights in {source} do not match the model: {report.ToString().Replace("\n", "; ")}")
{
    public LoadReport Report { get; } = report;
}

/// <summary>
/// Every parameter of a model by its full dotted name (candle's VarMap). Modules create their weights through a
/// <see cref="VarBuilder"/> over this store; saving, loading, freezing and the optimizer all work on it.
/// </summary>
public sealed class ParameterStore
{
    private readonly Dictionary<string, Tensor> _params = new();
    private readonly List<string> _order = new();

    /// <summary>Parameters in creation order.</summary>
    public IEnumerable<(string Name, Tensor Value)> Named => _order.Select(n => (n, _params[n]));

    /// <summary>Parameters that currently receive gradients.</summary>
    public IEnumerable<(string Name, Tensor Value)> Trainable => Named.Where(p => p.Value.RequiresGrad);

    /// <summary>Number of parameters (tensors).</summary>
    public int Count => _order.Count;

    /// <summary>Total number of scalar weights.</summary>
    public long ElementCount => _params.Values.Sum(t => (long)t.Numel);

    /// <summary>The parameter of that name.</summary>
    public Tensor this[string name] => _params.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"No parameter named '{name}'.");

    public bool Contains(string name) => _params.ContainsKey(name);

    internal Tensor Add(string name, Tensor t)
    {
        if (_params.ContainsKey(name))
            throw new InvalidOperationException($"Parameter '{name}' is created twice; give each layer its own name.");
        t.Name = name;
        t.SetRequiresGrad(true);
        _params[name] = t;
        _order.Add(name);
        return t;
    }

    /// <summary>
    /// A store holding the parameters of several models under prefixes ("unet.", "text_encoder."), sharing the same
    /// tensors, so one optimizer and one training checkpoint cover models trained together.
    /// </summary>
    public static ParameterStore Combine(params (string Prefix, ParameterStore Store)[] parts)
    {
        var all = new ParameterStore();
        foreach (var (prefix, store) in parts)
            foreach (var (name, t) in store.Named)
            {
                var full = $"{prefix}.{name}";
                if (all._params.ContainsKey(full))
                    throw new InvalidOperationException($"Parameter '{full}' appears twice.");
                all._params[full] = t;
                all._order.Add(full);
            }
        return all;
    }

    /// <summary>A store holding the parameters whose names match, sharing their tensors (the part of a model that
    /// trains, so its checkpoint, optimizer and EMA need not hold the frozen rest).</summary>
    public ParameterStore Subset(Func<string, bool> match)
    {
        var part = new ParameterStore();
        foreach (var (name, t) in Named)
            if (match(name))
            {
                part._params[name] = t;
                part._order.Add(name);
            }
        return part;
    }

    /// <summary>Freezes (or unfreezes) every parameter whose name matches.</summary>
    public int SetTrainable(Func<string, bool> match, bool trainable)
    {
        int n = 0;
        foreach (var (name, t) in Named) if (match(name)) { t.SetRequiresGrad(trainable); n++; }
        return n;
    }

    /// <summary>Freezes everything, then unfreezes the parameters that match (e.g. only temporal blocks).</summary>
    public int TrainOnly(Func<string, bool> match)
    {
        SetTrainable(_ => true, false);
        return SetTrainable(match, true);
    }

    /// <summary>Moves every parameter to <paramref name="device"/> in place (the modules holding them
    /// follow).</summary>
    public void ToDevice(Devices.Device device)
    {
        foreach (var (_, t) in Named) t.Buffer.MoveTo(device);
    }

    /// <summary>Copies of the current values by name.</summary>
    public Dictionary<string, Tensor> StateDict() => Named.ToDictionary(p => p.Name, p => p.Value.Detach());

    /// <summary>Writes all parameters to a safetensors file (atomically).</summary>
    public void Save(string path, DType dtype = DType.F32, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Save(path, StateDict(), dtype, metadata);

    /// <summary>Copies values in by name. Strict: any missing, unexpected or mis-shaped key throws, listing all of
    /// them, and nothing is changed.</summary>
    public LoadReport Load(IReadOnlyDictionary<string, Tensor> source, bool strict = true,
        string sourceName = "state dict")
    {
        var missing = _order.Where(n => !source.ContainsKey(n)).ToList();
        var unexpected = source.Keys.Where(k => !_params.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal)
            .ToList();
        var mism = new List<string>();
        foreach (var (name, t) in Named)
            if (source.TryGetValue(name, out var s) && !s.Shape.SequenceEqual(t.Shape))
                mism.Add($"{name}: file {ShapeUtil.Str(s.Shape)} vs model {ShapeUtil.Str(t.Shape)}");
        var report = new LoadReport(missing, unexpected, mism);
        if (strict && !report.IsExact) throw new StateDictMismatchException(report, sourceName);
        foreach (var (name, t) in Named)
            if (source.TryGetValue(name, out var s) && s.Shape.SequenceEqual(t.Shape)) t.CopyFrom(s);
        return report;
    }

    /// <summary>Loads a safetensors file by key name (see <see cref="Load(IReadOnlyDictionary{string, Tensor}, bool,
    /// string)"/>).</summary>
    public LoadReport Load(string path, bool strict = true) => Load(SafeTensors.Load(path), strict, path);
}
