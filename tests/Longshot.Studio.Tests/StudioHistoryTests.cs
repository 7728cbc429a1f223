using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Longshot.Studio.Tests;

/// <summary>
/// What the history offers beyond running jobs: an address per job, its details and thumbnail, downloads named after
/// the job, re-running with another seed, deleting (row and files), presets, warnings for segments past the end, and
/// the time left from the units' pace.
/// </summary>
[Collection("Studio")]
public class StudioHistoryTests
{
    private const string Story = "0-16: Wide shot of the beach at noon. Ziggy, in an orange shirt, waves.\n" +
                                 "16-: Close-up in the forest at night. Bo, in a red shirt, jumps.\n";

    private static HttpRequestMessage Delete(string id) =>
        new(HttpMethod.Delete, $"/api/jobs/{id}") { Content = JsonContent.Create(new { }) };

    [Fact]
    public async Task AFinishedJobHasAnAddressDetailsNamedDownloadsAndCanBeDeleted()
    {
        await using var s = await TestStudio.Start();
        string id = (await s.Submit(new { story = Story, frames = 32, steps = 1, seed = 5 })).GetProperty("id")
            .GetString()!;
        var job = await s.WaitEnded(id);
        Assert.Equal("done", job.GetProperty("status").GetString());
        Assert.True(job.GetProperty("seconds").GetDouble() > 0, "the job's duration");
        Assert.Equal(5UL, job.GetProperty("spec").GetProperty("seed").GetUInt64());

        // The job's address is the page, which opens it.
        var page = await s.Client.GetAsync($"/jobs/{id}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Longshot Studio", await page.Content.ReadAsStringAsync());

        var thumbnail = await s.Client.GetAsync($"/api/jobs/{id}/thumbnail");
        Assert.Equal("image/png", thumbnail.Content.Headers.ContentType!.MediaType);

        var video = await s.Client.GetAsync($"/api/jobs/{id}/video");
        Assert.StartsWith($"longshot-{id}.", video.Content.Headers.ContentDisposition!.FileName!.Trim('"'));
        var frame = await s.Client.GetAsync($"/api/jobs/{id}/frames/7?download=true");
        Assert.Equal($"longshot-{id}-frame7.png", frame.Content.Headers.ContentDisposition!.FileName!.Trim('"'));

        var sheets = await s.Client.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}/sheets");
        Assert.True(sheets.GetArrayLength() >= 2, $"contact sheets {sheets}");
        var sheet = await s.Client.GetAsync($"/api/jobs/{id}/sheets/2");
        Assert.Equal($"longshot-{id}-level2.png", sheet.Content.Headers.ContentDisposition!.FileName!.Trim('"'));
        Assert.True((await sheet.Content.ReadAsByteArrayAsync()).Length > 100);
        Assert.Equal(HttpStatusCode.NotFound,
            (await s.Client.GetAsync($"/api/jobs/{id}/sheets/{sheets.GetArrayLength() + 1}")).StatusCode);

        var deleted = await s.Client.SendAsync(Delete(id));
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await s.Client.GetAsync($"/api/jobs/{id}")).StatusCode);
        Assert.False(Directory.Exists(Path.Combine(s.Workspace, "jobs", id)), "the job's files are gone");
        Assert.False(Directory.Exists(Path.Combine(s.Workspace, "runs", id)), "its run folder is gone");
        Assert.Equal(HttpStatusCode.NotFound, (await s.Client.SendAsync(Delete(id))).StatusCode);
    }

    [Fact]
    public async Task ARerunKeepsTheSettingsWithAnotherSeedAndUnfinishedJobsStay()
    {
        await using var s = await TestStudio.Start();
        string id = (await s.Submit(new { story = Story, frames = 32, steps = 1, seed = 5, guidance = 1.5 }))
            .GetProperty("id").GetString()!;
        // Queued or running: not deleted.
        var early = await s.Client.SendAsync(Delete(id));
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.Contains("cancel it first", await early.Content.ReadAsStringAsync());
        await s.WaitEnded(id);

        var chosen = await s.Client.PostAsJsonAsync($"/api/jobs/{id}/rerun", new { seed = 9 });
        Assert.Equal(HttpStatusCode.Created, chosen.StatusCode);
        var again = (await chosen.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("spec");
        Assert.Equal(9UL, again.GetProperty("seed").GetUInt64());
        Assert.Equal(Story, again.GetProperty("story").GetString());
        Assert.Equal(1.5, again.GetProperty("guidance").GetDouble());
        var random = await s.Client.PostAsJsonAsync($"/api/jobs/{id}/rerun", new { });
        var randomSpec = (await random.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("spec");
        Assert.NotEqual(5UL, randomSpec.GetProperty("seed").GetUInt64());

        // A queued redraw needs its parent: the parent stays until the redraw has ended.
        var redraw = await s.Client.PostAsJsonAsync($"/api/jobs/{id}/redraw", new { from = 8, to = 12 });
        string redrawId = (await redraw.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var parentDelete = await s.Client.SendAsync(Delete(id));
        Assert.Equal(HttpStatusCode.Conflict, parentDelete.StatusCode);
        Assert.Contains("redraw", await parentDelete.Content.ReadAsStringAsync());
        foreach (var job in await s.Client.GetFromJsonAsync<JsonElement[]>("/api/jobs") ?? [])
            await s.Client.PostAsJsonAsync($"/api/jobs/{job.GetProperty("id").GetString()}/cancel", new { });
        await s.WaitEnded(redrawId);
        Assert.Equal(HttpStatusCode.OK, (await s.Client.SendAsync(Delete(id))).StatusCode);
    }

    [Fact]
    public async Task SegmentsPastTheEndAreNamedAndPresetsComeFromTheShippedSettings()
    {
        await using var s = await TestStudio.Start();
        var r = await s.Client.PostAsJsonAsync("/api/storyline",
            new { story = "0-16: a beach\n16-48: a forest\n48-60: a town\n", frames = 32 });
        var warnings = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("warnings").EnumerateArray()
            .Select(w => w.GetString()!).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains("16-48 runs past the video's 32 frames; only 16-32 is made", warnings[0]);
        Assert.Contains("48-60 starts past the video's 32 frames", warnings[1]);

        var settings = await s.Client.GetFromJsonAsync<JsonElement>("/api/settings");
        var presets = settings.GetProperty("presets").EnumerateArray().ToDictionary(
            p => p.GetProperty("name").GetString()!);
        var shipped = Longshot.Diffusion.ShippedModels.Sampler;
        Assert.Equal(shipped.Steps, presets["quality"].GetProperty("steps").GetInt32());
        Assert.Equal(shipped.GlobalSteps, presets["quality"].GetProperty("globalSteps").GetInt32());
        Assert.Equal(0.15, presets["quality"].GetProperty("fillStart").GetDouble());
        Assert.True(presets["draft"].GetProperty("steps").GetInt32() < shipped.Steps);
    }

    [Fact]
    public void TheTimeLeftGoesByTheUnitsAfterTheFirst()
    {
        var now = new DateTime(2026, 1, 1);
        var pace = new UnitPace(() => now);
        // The global unit alone took 30 s: no estimate from it.
        now = now.AddSeconds(30);
        Assert.Null(pace.Report(1, 21));
        // Then two local units every 2 s: 18 units left at 1 s each.
        now = now.AddSeconds(2);
        Assert.Equal(18, pace.Report(3, 21));
        now = now.AddSeconds(2);
        Assert.Equal(16, pace.Report(5, 21));
        now = now.AddSeconds(16);
        Assert.Equal(0, pace.Report(21, 21));
    }
}
