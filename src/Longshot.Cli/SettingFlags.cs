using System.Text;

namespace Longshot.Cli;

/// <summary>
/// The command line's name for each of the library's settings (<see cref="Tensors.SettingException.Setting"/>): the
/// property name in kebab case ("GlobalSteps" is --global-steps), except where the flag says it differently.
/// </summary>
internal static class SettingFlags
{
    private static readonly Dictionary<string, string> Renamed = new()
    {
        ["GuidanceScale"] = "--guidance", ["Scheduler"] = "--sampler", ["RunDir"] = "--run",
        ["FirstFrame"] = "--init-image", ["ClipFrames"] = "--clip-frames", ["Story"] = "--story",
        ["Base"] = "--base", ["Init"] = "--init", ["Urls"] = "--urls", ["ExtendedModel"] = "--extended",
        ["Range"] = "--regenerate", ["InitFrom"] = "--init", ["PredictionType"] = "--prediction",
    };

    /// <summary>The setting a kebab-case flag stands for ("--ema-decay" is EmaDecay): the inverse of <see cref="Of"/>
    /// for flags that are not renamed.</summary>
    public static string SettingOf(string flag) => string.Concat(flag.TrimStart('-').Split('-')
        .Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    /// <summary>The flag of <paramref name="setting"/>, e.g. "--fill-start" for "FillStart".</summary>
    public static string Of(string setting)
    {
        if (Renamed.TryGetValue(setting, out var flag)) return flag;
        var kebab = new StringBuilder("--");
        for (int i = 0; i < setting.Length; i++)
        {
            if (char.IsUpper(setting[i]) && i > 0) kebab.Append('-');
            kebab.Append(char.ToLowerInvariant(setting[i]));
        }
        return kebab.ToString();
    }
}
