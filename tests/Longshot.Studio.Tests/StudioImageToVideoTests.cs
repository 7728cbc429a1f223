using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Longshot.Video.Formats;
using Longshot.Video.Imaging;
using Xunit;

namespace Longshot.Studio.Tests;

/// <summary>Image-to-video jobs in the studio, on the small published-layout Stable Video Diffusion folder the
/// parity tests use (tests/Longshot.Diffusion.Tests/Golden/svd/pipeline_tiny) copied into the workspace.</summary>
[Collection("Studio")]
public class StudioImageToVideoTests
{
    internal static string Fixture()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Longshot.slnx")))
                return Path.Combine(d.FullName, "tests", "Longshot.Diffusion.Tests", "Golden", "svd", "pipeline_tiny");
        throw new InvalidOperationException("repository root not found");
    }

    internal static void CopyFolder(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    private static string FirstFrame()
    {
        var frame = new Frame(40, 24);
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 40; x++) frame.SetPixel(x, y, new Rgb((byte)(x * 6), (byte)(y * 10), 128));
        return Convert.ToBase64String(Png.Encode(frame));
    }

    [Fact]
    public async Task AFirstFrameBecomesAVideoWithTheModelsFamilyListed()
    {
        var workspace = Directory.CreateTempSubdirectory("longshot-studio-i2v-").FullName;
        CopyFolder(Fixture(), Path.Combine(workspace, "models", "svd-tiny"));
        try
        {
            await using var s = await TestStudio.Start(workspace);
            var settings = await s.Client.GetFromJsonAsync<JsonElement>("/api/settings");
            var model = settings.GetProperty("models").EnumerateArray()
                .Single(m => m.GetProperty("name").GetString() == "svd-tiny");
            Assert.Equal("image-to-video", model.GetProperty("kind").GetString());
            Assert.Contains("Stable Video Diffusion", model.GetProperty("family").GetString());

            var job = await s.Submit(new
            {
                model = "models/svd-tiny", image = FirstFrame(), frames = 3, steps = 2, width = 40, height = 24,
                seed = 4,
            });
            string id = job.GetProperty("id").GetString()!;
            Assert.Equal("image-to-video", job.GetProperty("kind").GetString());
            var ended = await s.WaitEnded(id);
            Assert.Equal("done", ended.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, ended.GetProperty("spec").GetProperty("image").ValueKind);
            Assert.True(File.Exists(Path.Combine(workspace, "jobs", id, "init.png")));
            var video = await s.Client.GetAsync($"/api/jobs/{id}/video");
            Assert.Equal(HttpStatusCode.OK, video.StatusCode);
            for (int f = 0; f < 3; f++)
                Assert.Equal(HttpStatusCode.OK, (await s.Client.GetAsync($"/api/jobs/{id}/frames/{f}")).StatusCode);
            var events = await s.Client.GetStringAsync($"/api/jobs/{id}/events");
            Assert.Contains("\"status\":\"done\"", events);
        }
        finally { Directory.Delete(workspace, true); }
    }

    [Fact]
    public async Task ABadImageOrModelIsNamedInTheFormsWords()
    {
        var workspace = Directory.CreateTempSubdirectory("longshot-studio-i2v-").FullName;
        CopyFolder(Fixture(), Path.Combine(workspace, "models", "svd-tiny"));
        try
        {
            await using var s = await TestStudio.Start(workspace);
            var r = await s.Client.PostAsJsonAsync("/api/jobs", new
            {
                model = "models/svd-tiny", image = Convert.ToBase64String(new byte[] { 1, 2, 3 }), frames = 3,
                width = 40, height = 24,
            });
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("First frame", await r.Content.ReadAsStringAsync());
            r = await s.Client.PostAsJsonAsync("/api/jobs", new
            {
                model = "models/none", image = FirstFrame(), frames = 3, width = 40, height = 24,
            });
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("Model", await r.Content.ReadAsStringAsync());
            r = await s.Client.PostAsJsonAsync("/api/jobs", new
            {
                model = "models/svd-tiny", image = FirstFrame(), frames = 3, width = 41, height = 24,
            });
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("Size", await r.Content.ReadAsStringAsync());
            Assert.Empty((await s.Client.GetFromJsonAsync<JsonElement>("/api/jobs")).EnumerateArray());
        }
        finally { Directory.Delete(workspace, true); }
    }

    /// <summary>The same in Chromium: pick the model (its family shows), give the first frame, watch the video
    /// come.</summary>
    [Fact]
    public async Task ThePagePicksTheModelAndTakesAFirstFrame()
    {
        const string chromium = "/usr/bin/chromium";
        await using var studio = await LiveStudio.Start(chromium,
            w => CopyFolder(Fixture(), Path.Combine(w, "models", "svd-tiny")));
        if (studio == null) return;
        var png = Path.Combine(Path.GetTempPath(), $"longshot-first-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(png, Convert.FromBase64String(FirstFrame()));
        try
        {
            using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = chromium, Headless = true, Args = new[] { "--no-sandbox" },
            });
            var page = await browser.NewPageAsync();
            await page.GotoAsync(studio.Url);
            await page.WaitForSelectorAsync("#model option[value='models/svd-tiny']",
                new() { State = Microsoft.Playwright.WaitForSelectorState.Attached });
            await page.SelectOptionAsync("#model", "models/svd-tiny");
            Assert.Contains("Stable Video Diffusion", await page.InnerTextAsync("#model-family"));
            Assert.True(await page.IsHiddenAsync("#story"));
            await page.SetInputFilesAsync("#init-image", png);
            await page.FillAsync("#i2v-width", "40");
            await page.FillAsync("#i2v-height", "24");
            await page.FillAsync("#frames", "3");
            await page.FillAsync("#steps", "2");
            await page.ClickAsync("#start");
            await page.WaitForSelectorAsync("#video", new() { Timeout = 120_000 });
            Assert.Contains("done", await page.InnerTextAsync("#progress"));
            Assert.Equal(3, await page.Locator("#strips img").CountAsync());
        }
        finally { File.Delete(png); }
    }
}
