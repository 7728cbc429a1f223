using Longshot.Tensors.IO;

namespace Longshot.Tensors.Nn;

/// <summary>
/// A name-scoped weight builder (after candle's VarBuilder). Layer constructors receive a builder whose prefix is
/// their dotted path (<c>vb.Pp("down_blocks").Pp(0)</c>) and create weights through it, so parameter names match
/// PyTorch/diffusers keys by construction. Weights come from a source (a safetensors file or a dictionary) when one
/// is given, otherwise from the init; every weight is registered in the <see cref="ParameterStore"/>.
/// </summary>
public sealed class VarBuilder
{
    private readonly ParameterStore _store;
    private readonly Func<string, Tensor?>? _source;
    private readonly string _prefix;
    private readonly Rng _rng;
    private readonly bool _copy;
    private readonly string? _file;

    private VarBuilder(ParameterStore store, Func<string, Tensor?>? source, string prefix, Rng rng, bool copy = true,
        string? file = null)
    {
        _store = store; _source = source; _prefix = prefix; _rng = rng; _copy = copy; _file = file;
    }

    /// <summary>A builder that initialises fresh weights from <paramref name="seed"/>.</summary>
    public static VarBuilder Fresh(ParameterStore store, ulong seed = 0) => new(store, null, "", new Rng(seed));

    /// <summary>A builder that takes every weight from a dictionary (missing keys throw, naming the key).</summary>
    public static VarBuilder FromTensors(ParameterStore store, IReadOnlyDictionary<string, Tensor> tensors) =>
        new(store, name => tensors.TryGetValue(name, out var t) ? t : null, "", new Rng(0));

    /// <summary>A builder that reads every weight from a (memory-mapped) safetensors file.</summary>
    public static VarBuilder FromSafeTensors(ParameterStore store, SafeTensorsFile file) =>
        new(store, name => file.Contains(name) ? file.Load(name) : null, "", new Rng(0));

    /// <summary>A builder whose weights stay in their files, in their stored type, widened only while used (see
    /// <see cref="MappedWeights"/>): for inference with large published models.</summary>
    public static VarBuilder Mapped(ParameterStore store, SafeTensorsSet weights) =>
        new(store, name => weights.Contains(name) ? weights.LoadMapped(name) : null, "", new Rng(0), copy: false,
            file: weights.Path);

    /// <summary>A builder over weights read in place from any source (several files layered, renamed keys):
    /// <paramref name="source"/> gives the mapped tensor of a name or null; <paramref name="file"/> names the source
    /// in errors.</summary>
    public static VarBuilder Mapped(ParameterStore store, Func<string, Tensor?> source, string file) =>
        new(store, source, "", new Rng(0), copy: false, file: file);

    /// <summary>A builder that records every weight's name and shape and stores no values (each weight is a
    /// zero-stride view of one zero): how a model's layout is checked at full size without its memory.</summary>
    public static VarBuilder ShapesOnly(ParameterStore store) =>
        new(store, name => null, "", new Rng(0), copy: false, file: "(shapes only)") { _shapesOnly = true };

    private bool _shapesOnly;

    /// <summary>The store parameters are registered in.</summary>
    public ParameterStore Store => _store;

    /// <summary>This builder's dotted prefix.</summary>
    public string Prefix => _prefix;

    /// <summary>A builder one level deeper: prefix + "." + name.</summary>
    public VarBuilder Pp(string name) =>
        new(_store, _source, _prefix.Length == 0 ? name : $"{_prefix}.{name}", _rng, _copy, _file)
        {
            _shapesOnly = _shapesOnly,
        };

    /// <summary>A builder one level deeper, for list indices (<c>resnets.0</c>).</summary>
    public VarBuilder Pp(int index) => Pp(index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Fetches or creates the weight <paramref name="name"/> of the given shape.</summary>
    public Tensor Get(string name, int[] shape, Init init)
    {
        string full = _prefix.Length == 0 ? name : $"{_prefix}.{name}";
        Tensor t;
        if (_shapesOnly)
            return _store.Add(full, Tensor.Zeros(1).Reshape(shape.Select(_ => 1).ToArray()).Expand(shape));
        if (_source != null)
        {
            var s = _source(full) ?? throw (_file != null
                ? new LongshotException($"{_file}: has no weight '{full}' {ShapeUtil.Str(shape)}, which the model's " +
                    "config needs (weights of another config, or an incomplete download?).")
                : new KeyNotFoundException($"Weight '{full}' {ShapeUtil.Str(shape)} is missing from the checkpoint."));
            if (!s.Shape.SequenceEqual(shape))
                throw _file != null
                    ? new LongshotException($"{_file}: weight '{full}' has shape {ShapeUtil.Str(s.Shape)}, but the " +
                        $"model's config gives {ShapeUtil.Str(shape)}.")
                    : new ArgumentException($"Weight '{full}' has shape {ShapeUtil.Str(s.Shape)} in the checkpoint " +
                        $"but the model expects {ShapeUtil.Str(shape)}.");
            t = _copy ? s.Clone() : s;
        }
        else t = init.Create(shape, _rng.Derive(StableHash(full)));
        return _store.Add(full, t);
    }

    /// <summary>FNV-1a hash of a name: each weight's init depends only on the seed and its own name.</summary>
    private static ulong StableHash(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s) { h ^= c; h *= 1099511628211UL; }
        return h;
    }
}
