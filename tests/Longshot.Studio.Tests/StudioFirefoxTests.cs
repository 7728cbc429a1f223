using Xunit;

namespace Longshot.Studio.Tests;

/// <summary>
/// The same walk through the page as <see cref="StudioBrowserTests"/>, in Debian's Firefox ESR driven through
/// Marionette. Without firefox-esr the test returns at once; in CI (CI=true), where .ci/run installs it, its absence
/// fails it.
/// </summary>
[Collection("Studio")]
public class StudioFirefoxTests
{
    private const string Firefox = "/usr/bin/firefox-esr";

    private static string SetValue(string id, string value) =>
        $"const e = document.getElementById('{id}'); e.value = {System.Text.Json.JsonSerializer.Serialize(value)}; " +
        "e.dispatchEvent(new Event('input')); return true;";

    [Fact]
    public async Task WriteAStorylineWatchItRenderAndRedrawARangeInFirefox()
    {
        await using var studio = await LiveStudio.Start(Firefox);
        if (studio == null) return;
        string url = studio.Url;
        using var ff = Marionette.Start(Firefox);
        ff.Navigate(url);
        ff.WaitFor("return document.querySelectorAll('#scheme option').length > 0", 30, "the settings");
        ff.Run(SetValue("story", "0-10: beach\n12-32: forest\n"));
        ff.WaitFor("return document.getElementById('story-error').textContent.includes('line 2')", 30,
            "the line of the mistake");
        ff.Run(SetValue("story", "0-16: Wide shot of the beach at noon. Ziggy, in an orange shirt, waves.\n" +
                                 "16-: Close-up in the forest at night. Bo, in a red shirt, jumps.\n"));
        ff.Run(SetValue("frames", "32"));
        ff.Run(SetValue("steps", "1"));
        ff.WaitFor("return document.getElementById('story-error').textContent === '' && " +
                   "document.querySelectorAll('#ruler div').length === 2", 30, "the ruler");
        ff.Run("document.getElementById('start').click(); return true;");
        ff.WaitFor("return document.querySelectorAll(\"#strips .strip[data-level='1'] img\").length >= 2", 120,
            "the keyframes");
        ff.WaitFor("""
            const v = document.getElementById('video');
            return !!v && (v.tagName === 'VIDEO' ? v.readyState >= 2 && v.duration > 0
                                                 : v.complete && v.naturalWidth > 0);
            """, 180, "the video");
        Assert.Contains("done", ff.Run("return document.getElementById('progress').textContent")!.GetValue<string>());
        ff.Run(SetValue("redraw-from", "8"));
        ff.Run(SetValue("redraw-to", "12"));
        ff.Run(SetValue("redraw-story", "Wide shot of the desert at dusk. Kip, in a green shirt, sits."));
        ff.Run("document.getElementById('redraw-start').click(); return true;");
        ff.WaitFor("const imgs = [...document.querySelectorAll('#compare-new img')]; " +
                   "return !document.getElementById('compare').hidden && imgs.length > 0 && " +
                   "[...document.querySelectorAll('#compare img')].every(i => i.complete && i.naturalWidth > 0);", 180,
                       "the redrawn range");
    }
}
