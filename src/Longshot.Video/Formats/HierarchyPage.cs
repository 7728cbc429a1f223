using System.Net;
using System.Text;

namespace Longshot.Video.Formats;

/// <summary>
/// A self-contained HTML page for a generated video: the video itself, then one strip of keyframes per level of the
/// diffusion-over-diffusion hierarchy (level 1 = the global model's keyframes, then each local level), each strip a
/// contact-sheet PNG next to the page.
/// </summary>
public static class HierarchyPage
{
    /// <param name="videoFile">File name of the video, relative to the page.</param>
    /// <param name="levels">Per level: a title and the contact sheet's file name, relative to the page.</param>
    public static void Write(string path, string title, string videoFile,
        IReadOnlyList<(string Title, string Sheet)> levels, string? caption = null)
    {
        var sb = new StringBuilder();
        string E(string s) => WebUtility.HtmlEncode(s);
        sb.AppendLine("<!doctype html><html><head><meta charset=\"utf-8\">");
        sb.AppendLine($"<title>{E(title)}</title>");
        sb.AppendLine("<style>body{font-family:sans-serif;background:#16161a;color:#e8e8e8;margin:24px}" +
                      "img,video{image-rendering:pixelated;max-width:100%}h2{font-size:16px;margin-top:28px}" +
                      ".strip{overflow-x:auto;white-space:nowrap}</style>");
        sb.AppendLine("</head><body>");
        sb.AppendLine($"<h1>{E(title)}</h1>");
        if (caption != null) sb.AppendLine($"<p>{E(caption)}</p>");
        bool isVideo = videoFile.EndsWith(".mp4", StringComparison.OrdinalIgnoreCase);
        sb.AppendLine(isVideo
            ? $"<video src=\"{E(videoFile)}\" controls loop autoplay muted width=\"512\"></video>"
            : $"<img src=\"{E(videoFile)}\" width=\"512\" alt=\"generated video\">");
        foreach (var (t, sheet) in levels)
            sb.AppendLine($"<h2>{E(t)}</h2><div class=\"strip\"><img src=\"{E(sheet)}\" alt=\"{E(t)}\"></div>");
        sb.AppendLine("</body></html>");
        Tensors.IO.AtomicFile.WriteAllText(path, sb.ToString());
    }
}
