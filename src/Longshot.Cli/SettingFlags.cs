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
