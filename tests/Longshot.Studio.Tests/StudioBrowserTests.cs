using Microsoft.Playwright;
using Xunit;

namespace Longshot.Studio.Tests;

/// <summary>
/// The page in a real browser: Debian's Chromium (headless) driven by Playwright against the studio on a local
/// port. Type a storyline, see the line of a mistake, start a 32-frame job, see progress and the level-1 strip fill
/// in, see the video, redraw a range and see old and new side by side. Without /usr/bin/chromium the test returns at
/// once; in CI (CI=true), where .ci/run installs it, its absence fails it.
/// </summary>
[Collection("Studio")]
public class StudioBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task WriteAStorylineWatchItRenderAndRedrawARange()
    {
        await using var studio = await LiveStudio.Start(Chromium);
        if (studio == null) return;
        string url = studio.Url;
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium, Headless = true, Args = new[] { "--no-sandbox" },
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 1000 },
        });
        await page.GotoAsync(url);
        await page.WaitForSelectorAsync("#scheme option", new() { State = WaitForSelectorState.Attached });

        // Inline validation with the command line's parser: the line of the mistake.
        await page.FillAsync("#story", "0-10: beach\n12-32: forest\n");
        await page.WaitForFunctionAsync("document.getElementById('story-error').textContent.includes('line 2')");

        await page.FillAsync("#story", "0-16: Wide shot of the beach at noon. Ziggy, in an orange shirt, waves.\n" +
                                       "16-: Close-up in the forest at night. Bo, in a red shirt, jumps.\n");
        await page.FillAsync("#frames", "32");
        await page.FillAsync("#steps", "1");
        await page.WaitForFunctionAsync("document.getElementById('story-error').textContent === '' && " +
                                        "document.querySelectorAll('#ruler div').length === 2");
        await page.ClickAsync("#start");

        // The hierarchy fills in: level-1 keyframes, then the video.
        await page.WaitForSelectorAsync("#strips .strip[data-level='1'] img", new() { Timeout = 120_000 });
        await page.WaitForSelectorAsync("#video", new() { Timeout = 180_000 });
        await page.WaitForFunctionAsync("""
            (() => { const v = document.getElementById('video');
                     return v.tagName === 'VIDEO' ? v.readyState >= 2 && v.duration > 0
                                                  : v.complete && v.naturalWidth > 0; })()
            """, null, new() { Timeout = 60_000 });
        Assert.Contains("done", await page.InnerTextAsync("#progress"));
        int level1 = await page.Locator("#strips .strip[data-level='1'] img").CountAsync();
        Assert.True(level1 >= 2, $"{level1} keyframes shown");
        if (Environment.GetEnvironmentVariable("LONGSHOT_SCREENSHOT") is { } shot)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });

        // Redraw frames 8-12 with a new prompt: old and new side by side.
        await page.FillAsync("#redraw-from", "8");
        await page.FillAsync("#redraw-to", "12");
        await page.FillAsync("#redraw-story", "Wide shot of the desert at dusk. Kip, in a green shirt, sits.");
        await page.ClickAsync("#redraw-start");
        await page.WaitForSelectorAsync("#compare:not([hidden]) #compare-new img", new() { Timeout = 180_000 });
        await page.WaitForFunctionAsync("[...document.querySelectorAll('#compare img')].every(i => i.complete && " +
            "i.naturalWidth > 0)");
        Assert.Contains("done", await page.InnerTextAsync("#progress"));
    }

    /// <summary>
    /// A page on another origin (another port of 127.0.0.1) tries what a malicious site would: a text/plain POST and a
    /// form POST (sent without a preflight), a JSON POST (preflighted), and the studio under another host name (DNS
    /// rebinding, with Chromium resolving evil.test to 127.0.0.1). Nothing reaches the job queue.
    /// </summary>
    [Fact]
    public async Task AnotherSiteCannotStartOrCancelJobs()
    {
        await using var studio = await LiveStudio.Start(Chromium);
        if (studio == null) return;
        await using var evil = await LiveStudio.Start(Chromium);
        var studioUri = new Uri(studio.Url);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium, Headless = true,
            Args = new[] { "--no-sandbox", "--host-resolver-rules=MAP evil.test 127.0.0.1" },
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(evil!.Url);
        string spec = "{\"story\":\"0-: a red ball\",\"frames\":16,\"steps\":1}";
        var outcome = await page.EvaluateAsync<string[]>($$"""
            async () => {
              const target = "{{studio.Url}}";
              const spec = '{{spec}}';
              const tries = [];
              const send = async (init) => {
                try { const r = await fetch(target + "/api/jobs", init); return "status " + r.status; }
                catch (e) { return "blocked"; }
              };
              tries.push(await send({ method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" },
                                      body: spec }));
              tries.push(await send({ method: "POST", headers: { "Content-Type": "application/json" }, body: spec }));
              const form = document.createElement("form");
              form.method = "POST"; form.action = target + "/api/jobs"; form.target = "sink";
              form.enctype = "text/plain";
              const input = document.createElement("input");
              input.name = spec; input.value = ""; form.appendChild(input);
              const sink = document.createElement("iframe"); sink.name = "sink"; document.body.appendChild(sink);
              document.body.appendChild(form);
              const loaded = new Promise(r => sink.onload = r);
              form.submit();
              await loaded;
              tries.push("form sent");
              return tries;
            }
            """);
        Assert.Equal("status 0", outcome[0]);   // an opaque answer: the page learns nothing, the server refused it
        Assert.Equal("blocked", outcome[1]);    // the preflight is never granted
        // DNS rebinding: the studio's own port under another name.
        var rebound = await page.GotoAsync($"http://evil.test:{studioUri.Port}/api/settings");
        Assert.Equal(421, rebound!.Status);

        using var http = new HttpClient();
        var jobs = await http.GetStringAsync(studio.Url + "/api/jobs");
        Assert.Equal("[]", jobs);
    }
}
