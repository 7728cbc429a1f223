namespace Longshot.Tensors;

/// <summary>
/// A setting that cannot work. <see cref="Setting"/> is the setting's name as the library knows it (the property of the
/// options record, e.g. "Frames" or "Depth"); the message speaks of the library, and each front end names the setting
/// its own way (the command line its --flag, the studio its form field).
/// </summary>
public class SettingException(string setting, string message, params string[] alternatives)
    : LongshotException(message)
{
    /// <summary>The setting's name in the library (an options record's property name).</summary>
    public string Setting { get; } = setting;

    /// <summary>Other settings the problem is about too: those that could be given instead, or that conflict with
    /// <see cref="Setting"/>.</summary>
    public IReadOnlyList<string> Alternatives { get; } = alternatives;
}

/// <summary>A file that cannot be used (missing, damaged, of another kind); <see cref="Path"/> names it.</summary>
public class InputFileException(string path, string message) : LongshotException(message)
{
    /// <summary>The file or folder at fault.</summary>
    public string Path { get; } = path;
}
