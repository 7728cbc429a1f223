using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Longshot.Diffusion.Families;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;

namespace Longshot.Cli;

/// <summary>
/// Typed options with the checks every command shares: a value that does not parse or is out of range is an error
/// naming the option, the allowed range and what was given, before any work starts.
/// </summary>
internal static class CliOptions
{
    /// <summary>A whole number in [min, max], <paramref name="default"/> when absent.</summary>
    public static Option<int> Int(string name, string description, int @default, int min = 0, int max = int.MaxValue) =>
        new(name)
        {
            Description = description, HelpName = "N", DefaultValueFactory = _ => @default,
            CustomParser = r => ParseInt(r, name, min, max) ?? @default,
        };

    /// <summary>A whole number in [min, max], null when absent.</summary>
    public static Option<int?> OptionalInt(string name, string description, int min = 0, int max = int.MaxValue) =>
        new(name) { Description = description, HelpName = "N", CustomParser = r => ParseInt(r, name, min, max) };

    /// <summary>A seed: any whole number from 0 to 2^63 - 1.</summary>
    public static Option<ulong> Seed(string name = "--seed", string description = "random seed", ulong @default = 1) =>
        new(name)
        {
            Description = description, HelpName = "N", DefaultValueFactory = _ => @default,
            CustomParser = r =>
            {
                var s = Token(r);
                if (ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
                    && v <= long.MaxValue) return v;
                r.AddError($"{name} must be a whole number between 0 and {long.MaxValue}, got '{s}'.");
                return @default;
            },
        };

    /// <summary>A finite number in [min, max] (NaN and infinities are refused).</summary>
    public static Option<double> Number(string name, string description, double @default, double min, double max) =>
        new(name)
        {
            Description = description, HelpName = "X",
            DefaultValueFactory = _ => @default,
            CustomParser = r =>
            {
                var s = Token(r);
                if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                    && double.IsFinite(v) && v >= min && v <= max) return v;
                r.AddError($"{name} must be a number between {min.ToString(CultureInfo.InvariantCulture)} and " +
                           $"{max.ToString(CultureInfo.InvariantCulture)}, got '{s}'.");
                return @default;
            },
        };

    /// <summary>
    /// Comma-separated whole numbers (e.g. 32,64), each in [min, max], checked when the command line is parsed; read
    /// them with <see cref="Ints"/> (null when absent). A text option, because System.CommandLine hands an absent
    /// array-typed option over as an empty array.
    /// </summary>
    public static Option<string?> IntList(string name, string description, int min = 0, int max = int.MaxValue)
    {
        var o = new Option<string?>(name) { Description = description, HelpName = "N,N,..." };
        o.Validators.Add(r =>
        {
            var s = Token(r);
            if (TryInts(s, min, max) == null)
                r.AddError($"{name} must be comma-separated whole numbers between {min} and {max}, got '{s}'.");
        });
        return o;
    }

    /// <summary>The numbers of an <see cref="IntList"/> option, or null when it was not given.</summary>
    public static int[]? Ints(string? value) => value == null ? null : TryInts(value, int.MinValue, int.MaxValue);

    private static int[]? TryInts(string s, int min, int max)
    {
        var parts = s.Split(',', StringSplitOptions.TrimEntries);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out values[i])
                || values[i] < min || values[i] > max)
                return null;
        return values;
    }

    /// <summary>A text value (a path, a name), null when absent unless required.</summary>
    public static Option<string?> Text(string name, string description, string helpName, bool required = false) =>
        new(name) { Description = description, HelpName = helpName, Required = required };

    /// <summary>
    /// A diffusion model folder, checked when the command line is parsed by the model-family registry
    /// (<see cref="ModelFamilies.Require{TModel}"/>): a missing folder, one without its index file, or one of another
    /// family is a one-line error naming the option.
    /// </summary>
    public static Option<string?> ModelFolder(string name, string description, bool required = false) =>
        Checked(Text(name, description, "DIR", required), name, ModelFamilies.Require<MtdPipelineParts>);

    /// <summary>A model folder of the family that loads <typeparamref name="TModel"/>, checked likewise.</summary>
    public static Option<string?> FamilyFolder<TModel>(string name, string description) where TModel : class =>
        Checked(Text(name, description, "DIR"), name, ModelFamilies.Require<TModel>);

    /// <summary>A VAE folder, checked likewise (an AutoencoderKL's config.json).</summary>
    public static Option<string?> VaeFolder(string name, string description) =>
        Checked(Text(name, description, "DIR"), name, ModelFamilies.Require<AutoencoderKL>);

    private static Option<string?> Checked(Option<string?> o, string name, Action<string> require)
    {
        o.Validators.Add(r =>
        {
            try { require(Token(r)); }
            catch (LongshotException e) { r.AddError($"{name}: {e.Message}"); }
        });
        return o;
    }

    /// <summary>One of <paramref name="choices"/> (offered by shell completion), the first when absent.</summary>
    public static Option<string> Choice(string name, string description, params string[] choices)
    {
        var o = new Option<string>(name)
        {
            Description = description, HelpName = string.Join("|", choices), DefaultValueFactory = _ => choices[0],
            CustomParser = r =>
            {
                var s = Token(r);
                if (choices.Contains(s)) return s;
                r.AddError($"{name} must be one of {string.Join(", ", choices)}, got '{s}'.");
                return choices[0];
            },
        };
        o.CompletionSources.Add(choices);
        return o;
    }

    /// <summary>An on/off switch.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>Adds options to a command and returns it.</summary>
    public static Command With(this Command c, params Option[] options)
    {
        foreach (var o in options) c.Options.Add(o);
        return c;
    }

    /// <summary>The first token given to an option (empty when none).</summary>
    internal static string Token(SymbolResult r) => r.Tokens.Count > 0 ? r.Tokens[0].Value : "";

    private static int? ParseInt(ArgumentResult r, string name, int min, int max)
    {
        var s = Token(r);
        if (int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min
            && v <= max) return v;
        r.AddError($"{name} must be a whole number between {min} and {max}, got '{s}'.");
        return null;
    }
}
