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
        "e.dispatchEvent(new Event('input', { bubbles: true })); return true;";

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
        // The draft survives a reload.
        ff.Navigate(url);
        ff.WaitFor("return document.querySelectorAll('#ruler div').length === 2", 30, "the ruler after a reload");
        Assert.Equal("1", ff.Run("return document.getElementById('steps').value")!.GetValue<string>());
        ff.Run("document.getElementById('start').click(); return true;");
        ff.WaitFor("return /^\\/jobs\\/[0-9a-f]{12}$/.test(location.pathname)", 30, "the job's address");
        ff.WaitFor("return document.querySelectorAll(\"#strips .strip[data-level='1'] img\").length >= 2", 120,
            "the keyframes");
        ff.WaitFor("""
            const v = document.getElementById('video');
            return !!v && (v.tagName === 'VIDEO' ? v.readyState >= 2 && v.duration > 0
                                                 : v.complete && v.naturalWidth > 0);
            """, 180, "the video");
        Assert.Contains("done", ff.Run("return document.getElementById('progress').textContent")!.GetValue<string>());
        // A drag over the timeline from frame 8 to frame 11 picks the range 8-12 (pointer events as a mouse sends
        // them).
        ff.WaitFor("return document.querySelectorAll('#thumbs .thumb-frame img').length === 32", 30, "the timeline");
        ff.Run("""
            const t = document.getElementById('thumbs'), b = t.getBoundingClientRect();
            const x = (f) => b.left + (f + 0.5) * b.width / 32, y = b.top + b.height / 2;
            const send = (type, f) => t.dispatchEvent(new PointerEvent(type, { clientX: x(f), clientY: y,
              pointerId: 1, bubbles: true, isPrimary: true }));
            send('pointerdown', 8); send('pointermove', 10); send('pointermove', 11); send('pointerup', 11);
            return true;
            """);
        Assert.Equal("8", ff.Run("return document.getElementById('redraw-from').value")!.GetValue<string>());
        Assert.Equal("12", ff.Run("return document.getElementById('redraw-to').value")!.GetValue<string>());
        ff.Run(SetValue("redraw-story", "Wide shot of the desert at dusk. Kip, in a green shirt, sits."));
        ff.Run("document.getElementById('redraw-start').click(); return true;");
        ff.WaitFor("const imgs = [...document.querySelectorAll('#compare-new img')]; " +
                   "return !document.getElementById('compare').hidden && imgs.length > 0 && " +
                   "[...document.querySelectorAll('#compare img')].every(i => i.complete && i.naturalWidth > 0);", 180,
                       "the redrawn range");
    }
}
