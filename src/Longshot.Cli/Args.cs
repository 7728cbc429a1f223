using System.Globalization;

namespace Longshot.Cli;

/// <summary>Options of one command: --name value pairs, --flags and positional arguments; unknown options are errors.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string?> _options = new();
    private readonly HashSet<string> _used = new();
    public List<string> Positional { get; } = new();
    private readonly string _command;

    public Args(string command, IEnumerable<string> args, IReadOnlySet<string> flags)
    {
        _command = command;
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) { Positional.Add(a); continue; }
            var name = a[2..];
            if (flags.Contains(name)) { _options[name] = null; continue; }
            if (i + 1 >= list.Count) throw new ArgumentException($"{command}: option --{name} needs a value.");
            _options[name] = list[++i];
        }
    }

    public bool Flag(string name) { _used.Add(name); return _options.ContainsKey(name); }

    public string? Get(string name) { _used.Add(name); return _options.GetValueOrDefault(name); }

    public string Require(string name) => Get(name) ?? throw new ArgumentException($"{_command}: --{name} is required.");

    public int Int(string name, int def, int min = int.MinValue, int max = int.MaxValue)
    {
        var s = Get(name);
        if (s == null) return def;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            throw new ArgumentException($"{_command}: --{name} must be a whole number between {min} and {max}, got '{s}'.");
        return v;
    }

    /// <summary>A comma-separated list of whole numbers (e.g. --channels 32,64), each at least <paramref name="min"/>; null when absent.</summary>
    public int[]? IntList(string name, int min = int.MinValue)
    {
        var s = Get(name);
        if (s == null) return null;
        var parts = s.Split(',', StringSplitOptions.TrimEntries);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]) || values[i] < min)
                throw new ArgumentException($"{_command}: --{name} must be comma-separated whole numbers >= {min}, got '{s}'.");
        return values;
    }

    public double Double(string name, double def, double min = double.MinValue)
    {
        var s = Get(name);
        if (s == null) return def;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v < min)
            throw new ArgumentException($"{_command}: --{name} must be a number >= {min}, got '{s}'.");
        return v;
    }

    /// <summary>Throws when an option was given that the command does not know.</summary>
    public void CheckAllUsed()
    {
        var unknown = _options.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"{_command}: unknown option{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => "--" + u))}.");
    }
}
