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

        // Inline validation with the command line's parser: the line of the mistake; a segment past the end is named.
        await page.FillAsync("#story", "0-10: beach\n12-32: forest\n");
        await page.WaitForFunctionAsync("document.getElementById('story-error').textContent.includes('line 2')");
        await page.FillAsync("#story", "0-16: a\n16-48: b\n");
        await page.WaitForFunctionAsync("document.getElementById('story-warning').textContent.includes(" +
                                        "'16-48 runs past the video')");

        await page.FillAsync("#story", "0-16: Wide shot of the beach at noon. Ziggy, in an orange shirt, waves.\n" +
                                       "16-: Close-up in the forest at night. Bo, in a red shirt, jumps.\n");
        await page.FillAsync("#frames", "32");
        Assert.Equal("1.3 s at 24 fps", await page.InnerTextAsync("#frames-seconds"));
        // The draft preset: a quarter of the shipped steps.
        await page.SelectOptionAsync("#preset", "draft");
        Assert.Equal("2", await page.InputValueAsync("#steps"));
        await page.FillAsync("#steps", "1");
        Assert.Equal("", await page.InputValueAsync("#preset"));   // custom now
        await page.WaitForFunctionAsync("document.getElementById('story-error').textContent === '' && " +
                                        "document.querySelectorAll('#ruler div').length === 2");

        // A segment's prompt edited in place on the ruler; the draft survives a reload.
        await page.ClickAsync("#ruler div[data-segment='1']");
        await page.FillAsync("#ruler input.in-place", "Close-up in the forest at night. Bo, in a red shirt, sits.");
        await page.PressAsync("#ruler input.in-place", "Enter");
        Assert.EndsWith("16-: Close-up in the forest at night. Bo, in a red shirt, sits.",
            (await page.InputValueAsync("#story")).TrimEnd());
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("#scheme option", new() { State = WaitForSelectorState.Attached });
        Assert.Contains("Bo, in a red shirt, sits.", await page.InputValueAsync("#story"));
        Assert.Equal("1", await page.InputValueAsync("#steps"));
        await page.ClickAsync("#start");

        // The job has its address; the hierarchy fills in, every level live, then the video.
        await page.WaitForFunctionAsync("/^\\/jobs\\/[0-9a-f]{12}$/.test(location.pathname) || " +
                                        "document.getElementById('submit-error').textContent !== ''");
        Assert.Equal("", await page.InnerTextAsync("#submit-error"));
        string id = page.Url[^12..];
        await page.WaitForSelectorAsync("#strips .strip[data-level='1'] img", new() { Timeout = 120_000 });
        await page.WaitForSelectorAsync("#strips .strip[data-level='2'] img", new() { Timeout = 120_000 });
        await page.WaitForSelectorAsync("#video", new() { Timeout = 180_000 });
        await page.WaitForFunctionAsync("""
            (() => { const v = document.getElementById('video');
                     return v.tagName === 'VIDEO' ? v.readyState >= 2 && v.duration > 0
                                                  : v.complete && v.naturalWidth > 0; })()
            """, null, new() { Timeout = 60_000 });
        Assert.Contains("done", await page.InnerTextAsync("#progress"));
        int level1 = await page.Locator("#strips .strip[data-level='1'] img").CountAsync();
        Assert.True(level1 >= 2, $"{level1} keyframes shown");
        Assert.Matches($"^longshot-{id}\\.(mp4|gif)$", await page.GetAttributeAsync("#download-video", "download"));
        await page.WaitForSelectorAsync(".downloads a.sheet");

        // The history row: prompt, seed, time taken and a thumbnail.
        var row = page.Locator($"#jobs tr[data-id='{id}']");
        await page.WaitForFunctionAsync($"(() => {{ const i = document.querySelector(\"#jobs tr[data-id='{id}'] " +
                                        "img.thumb\"); return i && i.complete && i.naturalWidth > 0; })()",
            null, new() { Timeout = 30_000 });
        var rowText = await row.InnerTextAsync();
        Assert.Contains("Wide shot of the beach", rowText);
        Assert.Contains("(+1 more)", rowText);
        Assert.Contains(" s", rowText);

        // The timeline: numbered thumbnails; a drag over frames 8..11 picks the redraw range 8-12 and shows a frame.
        await page.WaitForFunctionAsync("[...document.querySelectorAll('#thumbs .thumb-frame img')].length === 32 " +
                                        "&& [...document.querySelectorAll('#thumbs img')].every(i => i.complete)");
        await page.Locator("#thumbs").ScrollIntoViewIfNeededAsync();
        var box = (await page.Locator("#thumbs").BoundingBoxAsync())!;
        float X(int frame) => box.X + (frame + 0.5f) * box.Width / 32;
        float y = box.Y + box.Height / 2;
        await page.Mouse.MoveAsync(X(8), y);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(X(11), y, new() { Steps = 5 });
        await page.Mouse.UpAsync();
        Assert.Equal("8", await page.InputValueAsync("#redraw-from"));
        Assert.Equal("12", await page.InputValueAsync("#redraw-to"));
        Assert.StartsWith("frame 11", await page.InnerTextAsync("#frame-label"));
        Assert.True(await page.IsVisibleAsync("#selection"));
        if (Environment.GetEnvironmentVariable("LONGSHOT_SCREENSHOT") is { } shot)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });

        // Redraw the range with a new prompt: old and new side by side, the range as redrawn.
        await page.FillAsync("#redraw-story", "Wide shot of the desert at dusk. Kip, in a green shirt, sits.");
        await page.ClickAsync("#redraw-start");
        await page.WaitForSelectorAsync("#compare:not([hidden]) #compare-new img", new() { Timeout = 180_000 });
        await page.WaitForFunctionAsync("[...document.querySelectorAll('#compare img')].every(i => i.complete && " +
            "i.naturalWidth > 0)");
        Assert.Contains("done", await page.InnerTextAsync("#progress"));
        Assert.Contains("redrawn", await page.InnerTextAsync("#compare-title"));
        string redrawId = page.Url[^12..];
        Assert.NotEqual(id, redrawId);

        // The redraw's address opens it after a reload; then it is deleted (two clicks) and leaves the history.
        await page.ReloadAsync();
        await page.WaitForFunctionAsync($"document.getElementById('view-title').textContent.includes('{redrawId}')");
        var delete = page.Locator($"#jobs tr[data-id='{redrawId}'] button.delete");
        await delete.ClickAsync();
        await page.WaitForFunctionAsync($"document.querySelector(\"#jobs tr[data-id='{redrawId}'] button.delete\")" +
                                        ".textContent.includes('really')");
        await page.Locator($"#jobs tr[data-id='{redrawId}'] button.delete").ClickAsync();
        await page.WaitForFunctionAsync($"!document.querySelector(\"#jobs tr[data-id='{redrawId}']\")");
        Assert.True(await page.IsHiddenAsync("#view"));
        Assert.Equal(1, await page.Locator("#jobs tbody tr").CountAsync());
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
