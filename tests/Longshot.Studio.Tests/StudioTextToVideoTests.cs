using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Longshot.Studio.Tests;

/// <summary>Text-to-video jobs in the studio, on the tiny published-layout text-to-video folder the parity tests use
/// (tests/Longshot.Diffusion.Tests/Golden/t2v/pipeline_tiny) copied into the workspace.</summary>
[Collection("Studio")]
public class StudioTextToVideoTests
{
    private static string Fixture() => Path.Combine(Path.GetDirectoryName(StudioImageToVideoTests.Fixture())!, "..",
        "t2v", "pipeline_tiny");

    private static string NewWorkspace()
    {
        var workspace = Directory.CreateTempSubdirectory("longshot-studio-t2v-").FullName;
        StudioImageToVideoTests.CopyFolder(Fixture(), Path.Combine(workspace, "models", "t2v-tiny"));
        return workspace;
    }

    [Fact]
    public async Task APromptBecomesAVideoWithTheModelsFamilyListed()
    {
        var workspace = NewWorkspace();
        try
        {
            await using var s = await TestStudio.Start(workspace);
            var settings = await s.Client.GetFromJsonAsync<JsonElement>("/api/settings");
            var model = settings.GetProperty("models").EnumerateArray()
                .Single(m => m.GetProperty("name").GetString() == "t2v-tiny");
            Assert.Equal("text-to-video", model.GetProperty("kind").GetString());
            Assert.Contains("text-to-video", model.GetProperty("family").GetString());

            var job = await s.Submit(new
            {
                model = "models/t2v-tiny", prompt = "A red panda eats bamboo", negativePrompt = "blurry", frames = 3,
                steps = 2, width = 16, height = 8, guidance = 7.5, fps = 8, seed = 4,
            });
            string id = job.GetProperty("id").GetString()!;
            Assert.Equal("text-to-video", job.GetProperty("kind").GetString());
            var ended = await s.WaitEnded(id);
            Assert.Equal("done", ended.GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, (await s.Client.GetAsync($"/api/jobs/{id}/video")).StatusCode);
            for (int f = 0; f < 3; f++)
                Assert.Equal(HttpStatusCode.OK, (await s.Client.GetAsync($"/api/jobs/{id}/frames/{f}")).StatusCode);

            // A re-run keeps the prompt and takes another seed.
            var again = await (await s.Client.PostAsJsonAsync($"/api/jobs/{id}/rerun", new { seed = 5 })).Content
                .ReadFromJsonAsync<JsonElement>();
            var spec = again.GetProperty("spec");
            Assert.Equal("A red panda eats bamboo", spec.GetProperty("prompt").GetString());
            Assert.Equal(5UL, spec.GetProperty("seed").GetUInt64());
            await s.WaitEnded(again.GetProperty("id").GetString()!);
        }
        finally { Directory.Delete(workspace, true); }
    }

    /// <summary>A client that names no size or frame rate gets the model's size (its UNet's sample_size times the
    /// VAE's factor) and ModelScope's 8 fps, not the image-to-video defaults.</summary>
    [Fact]
    public async Task AJobWithoutASizeGetsTheModelsSize()
    {
        var workspace = NewWorkspace();
        try
        {
            await using var s = await TestStudio.Start(workspace);
            var job = await s.Submit(new { model = "models/t2v-tiny", prompt = "a cat", frames = 2, steps = 1,
                guidance = 3 });
            string id = job.GetProperty("id").GetString()!;
            Assert.Equal("done", (await s.WaitEnded(id)).GetProperty("status").GetString());
            var frame = Longshot.Video.Formats.Png.Load(Path.Combine(workspace, "jobs", id, "frames", "000000.png"));
            Assert.Equal((8, 8), (frame.Width, frame.Height));
        }
        finally { Directory.Delete(workspace, true); }
    }

    [Theory]
    [InlineData("Prompt: write what", "", null, 7.5)]
    [InlineData("Negative prompt: a negative prompt needs guidance", "a cat", "dog", 1.0)]
    public async Task ABadPromptIsNamedInTheFormsWords(string message, string prompt, string? negative,
        double guidance)
    {
        var workspace = NewWorkspace();
        try
        {
            await using var s = await TestStudio.Start(workspace);
            var r = await s.Client.PostAsJsonAsync("/api/jobs", new
            {
                model = "models/t2v-tiny", prompt, negativePrompt = negative, frames = 3, steps = 1, width = 16,
                height = 8, guidance,
            });
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains(message, await r.Content.ReadAsStringAsync());
        }
        finally { Directory.Delete(workspace, true); }
    }

    /// <summary>The same in Chromium: pick the model (its family shows, the prompt replaces the storyline), write a
    /// prompt, watch the video come.</summary>
    [Fact]
    public async Task ThePagePicksTheModelAndTakesAPrompt()
    {
        const string chromium = "/usr/bin/chromium";
        await using var studio = await LiveStudio.Start(chromium,
            w => StudioImageToVideoTests.CopyFolder(Fixture(), Path.Combine(w, "models", "t2v-tiny")));
        if (studio == null) return;
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium, Headless = true, Args = new[] { "--no-sandbox" },
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(studio.Url);
        await page.WaitForSelectorAsync("#model option[value='models/t2v-tiny']",
            new() { State = Microsoft.Playwright.WaitForSelectorState.Attached });
        await page.SelectOptionAsync("#model", "models/t2v-tiny");
        Assert.Contains("text-to-video", await page.InnerTextAsync("#model-family"));
        Assert.True(await page.IsHiddenAsync("#story"));
        Assert.Equal("16", await page.InputValueAsync("#frames"));
        await page.FillAsync("#t2v-prompt", "A red panda eats bamboo");
        await page.FillAsync("#t2v-width", "16");
        await page.FillAsync("#t2v-height", "8");
        await page.FillAsync("#frames", "3");
        await page.FillAsync("#steps", "2");
        await page.ClickAsync("#start");
        await page.WaitForSelectorAsync("#video", new() { Timeout = 120_000 });
        Assert.Contains("done", await page.InnerTextAsync("#progress"));
        Assert.Equal(3, await page.Locator("#strips img").CountAsync());
        Assert.Contains("A red panda eats bamboo", await page.InnerTextAsync("#jobs tbody"));
    }
}
