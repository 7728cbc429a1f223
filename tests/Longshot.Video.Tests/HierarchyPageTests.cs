using Longshot.Video.Formats;
using Xunit;

namespace Longshot.Video.Tests;

public class HierarchyPageTests
{
    [Fact]
    public void ThePageShowsTheVideoAndOneStripPerLevelWithTextEscaped()
    {
        var path = Path.Combine(Path.GetTempPath(), $"page-{Guid.NewGuid():N}.html");
        try
        {
            HierarchyPage.Write(path, "Bora & Tika <3", "out.mp4",
                new[] { ("Level 1", "out.level1.png"), ("Level 2", "out.level2.png") }, "a \"story\"");
            var html = File.ReadAllText(path);
            Assert.Contains("<video src=\"out.mp4\"", html);
            Assert.Contains("Bora &amp; Tika &lt;3", html);
            Assert.Contains("a &quot;story&quot;", html);
            Assert.True(html.IndexOf("out.level1.png", StringComparison.Ordinal) < html.IndexOf("out.level2.png",
                StringComparison.Ordinal));
            HierarchyPage.Write(path, "gif", "out.gif", Array.Empty<(string, string)>());
            Assert.Contains("<img src=\"out.gif\"", File.ReadAllText(path));
        }
        finally { File.Delete(path); }
    }
}
