using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Longshot.Tensors;

namespace Longshot.Video.Store;

/// <summary>Per-frame captions read from SRT or WebVTT subtitles, or from JSONL frame ranges.</summary>
public static partial class CaptionTrack
{
    /// <summary>A caption for every frame (empty where nothing is said). Time-based formats use <paramref
    /// name="fps"/>.</summary>
    public static string[] Load(string path, int frames, double fps)
    {
        if (!File.Exists(path)) throw new LongshotException($"caption file not found: {path}");
        var ext = Path.GetExtension(path).ToLowerInvariant();
        var cues = ext switch
        {
            ".srt" or ".vtt" => ParseSubtitles(path, fps),
            ".jsonl" => ParseJsonl(path),
            _ => throw new LongshotException($"{path}: captions must be .srt, .vtt or .jsonl."),
        };
        var result = Enumerable.Repeat("", frames).ToArray();
        foreach (var (start, end, text) in cues)
            for (int f = Math.Max(0, start); f < Math.Min(frames, end); f++)
                result[f] = result[f].Length == 0 ? text : result[f] + " " + text;
        return result;
    }

    [GeneratedRegex(@"^\s*(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})\s*-->\s*(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})")]
    private static partial Regex CueTime();

    private static List<(int, int, string)> ParseSubtitles(string path, double fps)
    {
        var lines = File.ReadAllLines(path);
        var cues = new List<(int, int, string)>();
        for (int i = 0; i < lines.Length; i++)
        {
            var m = CueTime().Match(lines[i]);
            if (!m.Success)
            {
                if (lines[i].Contains("-->"))
                    throw new LongshotException($"{path}:{i + 1}: cannot read the cue time '{lines[i].Trim()}' " +
                    $"(expected HH:MM:SS,mmm --> HH:MM:SS,mmm).");
                continue;
            }
            double Seconds(int g) =>
                (m.Groups[g].Success ? int.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture) * 3600 : 0)
                + int.Parse(m.Groups[g + 1].Value, CultureInfo.InvariantCulture) * 60
                    + int.Parse(m.Groups[g + 2].Value, CultureInfo.InvariantCulture)
                + int.Parse(m.Groups[g + 3].Value.PadRight(3, '0'), CultureInfo.InvariantCulture) / 1000.0;
            double t0 = Seconds(1), t1 = Seconds(5);
            if (t1 < t0) throw new LongshotException($"{path}:{i + 1}: cue ends before it starts.");
            var text = new List<string>();
            for (i++; i < lines.Length && lines[i].Trim()
                .Length > 0; i++) text.Add(Regex.Replace(lines[i].Trim(), "<[^>]+>", ""));
            cues.Add(((int)Math.Round(t0 * fps), (int)Math.Round(t1 * fps), string.Join(" ", text)));
        }
        return cues;
    }

    private static List<(int, int, string)> ParseJsonl(string path)
    {
        var cues = new List<(int, int, string)>();
        int n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (line.Trim().Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var r = doc.RootElement;
                int s = r.GetProperty("start").GetInt32(), e = r.GetProperty("end").GetInt32();
                if (e < s) throw new LongshotException("end is before start");
                cues.Add((s, e, r.GetProperty("text").GetString() ?? ""));
            }
            catch (Exception ex)
                when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new LongshotException($"{path}:{n}: expected {{\"start\": frame, \"end\": frame, \"text\": " +
                    $"\"...\"}} ({ex.Message}).");
            }
        }
        return cues;
    }
}
