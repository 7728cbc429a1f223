using System.Diagnostics;
using System.Globalization;
using Longshot.Tensors;
using Longshot.Video.Imaging;

namespace Longshot.Video.Formats;

/// <summary>Raised when ffmpeg is needed but not installed.</summary>
public sealed class FFmpegMissingException() : LongshotException("ffmpeg is not installed: install it (apt-get " +
    "install ffmpeg), or write .gif/.y4m/PNG output, which needs nothing.");

/// <summary>How imported footage is fitted to the target size.</summary>
public enum FitMode
{
    /// <summary>Scale to cover the target, then crop the centre.</summary>
    CenterCrop,
    /// <summary>Scale to fit inside the target, then pad with black bars.</summary>
    Letterbox,
}

/// <summary>Finds and runs Debian's ffmpeg/ffprobe as processes; raw RGB frames go through pipes.</summary>
public static class FFmpeg
{
    private static readonly Lazy<string?> FfmpegPath = new(() => Find("ffmpeg"));
    private static readonly Lazy<string?> FfprobePath = new(() => Find("ffprobe"));

    /// <summary>True when ffmpeg is on the PATH.</summary>
    public static bool IsAvailable => FfmpegPath.Value != null;

    internal static string Exe => FfmpegPath.Value ?? throw new FFmpegMissingException();

    private static string? Find(string name)
    {
        var env = Environment.GetEnvironmentVariable("LONGSHOT_FFMPEG_DIR");
        var dirs = (env != null ? new[] { env } : Array.Empty<string>())
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator));
        foreach (var d in dirs)
        {
            if (string.IsNullOrEmpty(d)) continue;
            var p = Path.Combine(d, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    internal static Process Start(string exe, IEnumerable<string> args, bool stdin, bool stdout)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardInput = stdin, RedirectStandardOutput = stdout, RedirectStandardError = true,
                UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi) ?? throw new IOException($"could not start {exe}.");
    }

    /// <summary>Width, height, frame rate and frame count (if known) of a media file's first video stream.</summary>
    public static (int Width, int Height, double Fps, int? Frames) Probe(string path)
    {
        if (!File.Exists(path)) throw new LongshotException($"video file not found: {path}");
        var exe = FfprobePath.Value ?? throw new FFmpegMissingException();
        using var p = Start(exe,
            new[] { "-v", "error", "-select_streams", "v:0", "-show_entries",
            "stream=width,height,avg_frame_rate,nb_frames", "-of", "default=nw=1", path }, false, true);
        var errTask = p.StandardError.ReadToEndAsync();
        string outText = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var fields = outText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0].Trim(), kv => kv[1].Trim());
        if (p.ExitCode != 0 || !fields.ContainsKey("width"))
            throw new MediaFormatException($"{path}: ffmpeg cannot decode a video stream ({errTask.Result.Trim()}).");
        double fps = 0;
        if (fields.TryGetValue("avg_frame_rate", out var fr) && fr.Split('/') is { Length: 2 } q
            && double.TryParse(q[0], CultureInfo.InvariantCulture, out var a)
                && double.TryParse(q[1], CultureInfo.InvariantCulture, out var b) && b != 0) fps = a / b;
        int? frames = fields.TryGetValue("nb_frames", out var nf) && int.TryParse(nf, out var n) ? n : null;
        return (int.Parse(fields["width"], CultureInfo.InvariantCulture),
            int.Parse(fields["height"], CultureInfo.InvariantCulture), fps, frames);
    }

    /// <summary>
    /// Decodes any file ffmpeg reads into RGB frames of the given size and frame rate, streamed.
    /// </summary>
    public static IEnumerable<Frame> Read(string path, int width, int height, double? fps = null,
        FitMode fit = FitMode.CenterCrop, CancellationToken ct = default)
    {
        if (!File.Exists(path)) throw new LongshotException($"video file not found: {path}");
        if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0)
            throw new LongshotException($"import size {width}x{height} must be positive and even.");
        string scale = fit == FitMode.CenterCrop
            ? $"scale={width}:{height}:force_original_aspect_ratio=increase:flags=area,crop={width}:{height}"
            : $"scale={width}:{height}:force_original_aspect_ratio=decrease:flags=area," +
              $"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2";
        string vf = fps is { } f ? $"fps={f.ToString(CultureInfo.InvariantCulture)},{scale}" : scale;
        var p = Start(Exe,
            new[] { "-v", "error", "-nostdin", "-i", path, "-vf", vf, "-f", "rawvideo", "-pix_fmt", "rgb24", "-" },
            false, true);
        var err = p.StandardError.ReadToEndAsync();
        try
        {
            var s = p.StandardOutput.BaseStream;
            int size = width * height * 3;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var buf = new byte[size];
                int read = 0;
                while (read < size)
                {
                    int k = s.Read(buf, read, size - read);
                    if (k == 0) break;
                    read += k;
                }
                if (read == 0) break;
                if (read < size) throw new MediaFormatException($"{path}: ffmpeg ended in the middle of a frame.");
                yield return new Frame(width, height, buf);
            }
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new MediaFormatException($"{path}: ffmpeg could not decode the file: {err.Result.Trim()}");
        }
        finally
        {
            if (!p.HasExited) { try { p.Kill(); } catch (InvalidOperationException) { } }
            p.Dispose();
        }
    }
}

/// <summary>Streams frames into an H.264 MP4 (yuv420p) through ffmpeg.</summary>
public sealed class Mp4Writer : FileVideoWriter
{
    private readonly double _fps;
    private readonly int _crf;
    private Process? _p;
    private Task<string>? _err;

    /// <param name="crf">x264 constant rate factor (lower is better quality; 18 is visually lossless).</param>
    public Mp4Writer(string path, double fps, int crf = 18) : base(path)
    {
        if (!FFmpeg.IsAvailable) throw new FFmpegMissingException();
        if (fps <= 0) throw new LongshotException($"MP4: frame rate {fps} must be positive.");
        _fps = fps; _crf = crf;
    }

    protected override void Begin(Frame first)
    {
        if (Width % 2 != 0 || Height % 2 != 0)
            throw new LongshotException($"MP4 (yuv420p) needs even sizes, got {Width}x{Height}.");
        _p = FFmpeg.Start(FFmpeg.Exe, new[]
        {
            "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", $"{Width}x{Height}",
            "-framerate", _fps.ToString(CultureInfo.InvariantCulture), "-i", "-",
            // One encoder thread: x264's bitstream depends on its thread count, which would otherwise follow the cores
            // this process may use (fewer under mpirun's binding), and the same frames must give the same file.
            "-c:v", "libx264", "-threads", "1", "-pix_fmt", "yuv420p", "-crf",
                _crf.ToString(CultureInfo.InvariantCulture),
            "-preset", "medium", "-movflags", "+faststart", "-f", "mp4", TempPath,
        }, true, false);
        _err = _p.StandardError.ReadToEndAsync();
    }

    protected override void WriteFrame(Frame frame)
    {
        try { _p!.StandardInput.BaseStream.Write(frame.Rgb); }
        catch (IOException) { throw new IOException($"{Path}: ffmpeg stopped accepting frames: {Drain()}"); }
    }

    private string Drain()
    {
        try { _p!.WaitForExit(5000); } catch (InvalidOperationException) { }
        return _err?.Result.Trim() ?? "";
    }

    protected override void Finish()
    {
        _p!.StandardInput.Close();
        _p.WaitForExit();
        if (_p.ExitCode != 0)
            throw new IOException($"{Path}: ffmpeg failed (exit {_p.ExitCode}): {_err!.Result.Trim()}");
        _p.Dispose();
    }

    protected override void Abort()
    {
        if (_p == null) return;
        try { if (!_p.HasExited) _p.Kill(); } catch (InvalidOperationException) { }
        _p.Dispose();
    }
}
