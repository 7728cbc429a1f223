using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Longshot.Studio.Tests;

/// <summary>A studio on an in-memory server over a fresh workspace (deleted when it stops) or a given one.</summary>
internal sealed class TestStudio : IAsyncDisposable
{
    public WebApplication App { get; }
    public HttpClient Client { get; }
    public string Workspace { get; }
    private readonly bool _ownsWorkspace;

    private TestStudio(WebApplication app, string workspace, bool ownsWorkspace)
    {
        App = app; Workspace = workspace; _ownsWorkspace = ownsWorkspace;
        Client = app.GetTestClient();
    }

    public static async Task<TestStudio> Start(string? workspace = null, int maxFrames = 4096)
    {
        bool owns = workspace == null;
        workspace ??= Directory.CreateTempSubdirectory("longshot-studio-").FullName;
        var app = StudioApp.Build(new StudioOptions { Workspace = workspace, MaxFrames = maxFrames },
            b => b.WebHost.UseTestServer());
        await app.StartAsync();
        return new TestStudio(app, workspace, owns);
    }

    public async Task<JsonElement> Submit(object spec)
    {
        var r = await Client.PostAsJsonAsync("/api/jobs", spec);
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Polls a job until it has ended and returns it.</summary>
    public async Task<JsonElement> WaitEnded(string id, int seconds = 240)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            var job = await Client.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}");
            if (job.GetProperty("status").GetString() is "done" or "failed" or "cancelled") return job;
            await Task.Delay(100);
        }
        throw new TimeoutException($"job {id} did not end in {seconds} s");
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        if (_ownsWorkspace) Directory.Delete(Workspace, true);
    }
}

/// <summary>The studio's API, in process: jobs, events, validation, confinement to the workspace, restart.</summary>
[Collection("Studio")]
public class StudioApiTests
{
    private const string Story = "0-16: Wide shot of the beach at noon. Ziggy, in an orange shirt, waves.\n" +
                                 "16-: Close-up in the forest at night. Bo, in a red shirt, jumps.\n";

    [Fact]
    public async Task AJobRunsStreamsItsHierarchyAndKeepsItsVideo()
    {
        await using var s = await TestStudio.Start();
        var job = await s.Submit(new { story = Story, frames = 32, steps = 1 });
        string id = job.GetProperty("id").GetString()!;
        var events = await s.Client.GetStringAsync($"/api/jobs/{id}/events");   // replayed and followed to the end
        Assert.Contains("\"type\":\"plan\"", events);
        Assert.Contains("\"type\":\"frame\"", events);
        Assert.Contains("\"status\":\"done\"", events);
        // Every level fills in live: previews of level 1 (the keyframes) and of level 2 come before decoded frames.
        foreach (var level in new[] { 1, 2 })
        {
            int preview = events.IndexOf($"\"level\":{level},\"type\":\"preview\"", StringComparison.Ordinal);
            Assert.True(preview >= 0, $"no preview of level {level}");
            Assert.True(preview < events.IndexOf("\"type\":\"frame\"", StringComparison.Ordinal),
                $"level {level}'s previews come before decoded frames");
        }
        var done = await s.WaitEnded(id);
        Assert.Equal("done", done.GetProperty("status").GetString());
        var video = await s.Client.GetAsync($"/api/jobs/{id}/video");
        Assert.Equal(HttpStatusCode.OK, video.StatusCode);
        Assert.True((await video.Content.ReadAsByteArrayAsync()).Length > 1000);
        Assert.Equal(HttpStatusCode.OK, (await s.Client.GetAsync($"/api/jobs/{id}/frames/31")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await s.Client.GetAsync($"/api/jobs/{id}/frames/32")).StatusCode);
        var list = await s.Client.GetFromJsonAsync<JsonElement>("/api/jobs");
        Assert.Contains(list.EnumerateArray(), j => j.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task AQueuedJobCanBeCancelledAndJobsRunOneAtATime()
    {
        await using var s = await TestStudio.Start();
        var first = await s.Submit(new { story = Story, frames = 32, steps = 2 });
        var second = await s.Submit(new { story = Story, frames = 32, steps = 1, seed = 2 });
        string id1 = first.GetProperty("id").GetString()!, id2 = second.GetProperty("id").GetString()!;
        var cancel = await s.Client.PostAsJsonAsync($"/api/jobs/{id2}/cancel", new { });
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("cancelled", (await s.WaitEnded(id2)).GetProperty("status").GetString());
        var one = await s.WaitEnded(id1);
        Assert.True(one.GetProperty("status").GetString() == "done", $"the first job ended as {one}");
        Assert.Equal(HttpStatusCode.Conflict, (await s.Client.PostAsJsonAsync($"/api/jobs/{id1}/cancel", new { }))
            .StatusCode);
    }

    public static TheoryData<string, object> BadJobs => new()
    {
        { "Storyline, line 2: segment starts", new { story = "0-10: a\n12-20: b\n", frames = 20 } },
        { "Frames: must be between", new { story = "0-: a", frames = 99999 } },
        { "Frames: must be between", new { story = "0-: a", frames = 0 } },
        { "guidance", new { story = "0-: a", frames = 16, guidance = 1e308 } },
        { "steps", new { story = "0-: a", frames = 16, steps = 0 } },
        { "global steps", new { story = "0-: a", frames = 16, globalSteps = -1 } },
        { "fill start", new { story = "0-: a", frames = 16, fillStart = 0 } },
        { "fill ease", new { story = "0-: a", frames = 16, fillEase = 0 } },
        { "Scheme: must be one of", new { story = "0-: a", frames = 16, scheme = "zigzag" } },
        { "'..' are not allowed", new { story = "0-: a", frames = 16, global = "../../etc" } },
        { "relative to the workspace", new { story = "0-: a", frames = 16, global = "/etc" } },
        { "'..' are not allowed", new { story = "0-: a", frames = 16, local = "models/../../x" } },
        { "relative to the workspace", new { story = "0-: a", frames = 16, local = "models\\x" } },
        { "not a model folder", new { story = "0-: a", frames = 16, local = "models/none" } },
    };

    [Theory]
    [MemberData(nameof(BadJobs))]
    public async Task BadJobsAreRefusedWithAMessageAndNoStackTrace(string mention, object spec)
    {
        await using var s = await TestStudio.Start();
        var r = await s.Client.PostAsJsonAsync("/api/jobs", spec);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var body = await r.Content.ReadAsStringAsync();
        Assert.Contains(mention, body);
        Assert.DoesNotContain("   at ", body);
        Assert.Empty(await s.Client.GetFromJsonAsync<JsonElement[]>("/api/jobs") ?? Array.Empty<JsonElement>());
    }

    [Theory]
    [InlineData("/api/jobs/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/api/jobs/..%2F..%2Fetc/video")]
    [InlineData("/api/jobs/abc/frames/1")]
    [InlineData("/api/jobs/%2Fetc%2Fpasswd/events")]
    public async Task IdsThatAreNotJobIdsNeverReachTheDisk(string url)
    {
        await using var s = await TestStudio.Start();
        var r = await s.Client.GetAsync(url);
        Assert.True(r.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{url}: {r.StatusCode}");
        Assert.DoesNotContain("root:", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ThePageStartsFromTheShippedSamplerSettings()
    {
        await using var s = await TestStudio.Start();
        var page = await s.Client.GetStringAsync("/");
        string Value(string id) => System.Text.RegularExpressions.Regex.Match(page,
            $"id=\"{id}\"[^>]*?value=\"([^\"]*)\"", System.Text.RegularExpressions.RegexOptions.Singleline)
            .Groups[1].Value;
        var shipped = Longshot.Diffusion.ShippedModels.Sampler;
        Assert.Equal(shipped.Steps.ToString(CultureInfo.InvariantCulture), Value("steps"));
        Assert.Equal(shipped.GuidanceScale.ToString(CultureInfo.InvariantCulture), Value("guidance"));
        Assert.Equal(shipped.FillStart.ToString(CultureInfo.InvariantCulture), Value("fill-start"));
        Assert.Equal(shipped.FillEase.ToString(CultureInfo.InvariantCulture), Value("fill-ease"));
        // A job that does not name them gets the same settings.
        var spec = new JobSpec();
        Assert.Equal((shipped.Steps, shipped.GuidanceScale, shipped.FillStart, shipped.FillEase),
            (spec.Steps, (float)spec.Guidance, (float)spec.FillStart, spec.FillEase));
    }

    [Fact]
    public void AStoredSpecKeepsTheSettingsItRanWith()
    {
        // Stored before --fill-start, --fill-ease and --global-steps existed: it ran without them, and resuming it
        // must ask for the same units (the run folder's settings), not today's defaults.
        var old = JobSpec.FromStored("{\"Story\":\"0-: a\",\"Frames\":32,\"Steps\":8,\"Guidance\":2}");
        var off = new Longshot.Diffusion.Pipelines.SamplerOptions(8, 2, "dpm++");
        Assert.Equal((off.FillStart, off.FillEase, off.GlobalSteps),
            ((float)old.FillStart, old.FillEase, old.GlobalSteps));
        Assert.NotEqual(new JobSpec().GlobalSteps, old.GlobalSteps);
        // A spec stored today comes back as it was.
        var now = new JobSpec { Story = "0-: a", Frames = 32, GlobalSteps = 12, FillEase = 3, FillStart = 0.2 };
        Assert.Equal(now, JobSpec.FromStored(System.Text.Json.JsonSerializer.Serialize(now)));
    }

    [Fact]
    public async Task BodiesThatAreNotJsonAndStorylinesAreAnsweredClearly()
    {
        await using var s = await TestStudio.Start();
        var r = await s.Client.PostAsync("/api/jobs",
            new StringContent("garbage", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("error", await r.Content.ReadAsStringAsync());
        var check = await s.Client.PostAsJsonAsync("/api/storyline",
            new { story = "0-10: a\n12-20: b\n", frames = 20 });
        Assert.Equal(HttpStatusCode.BadRequest, check.StatusCode);
        Assert.Equal(2, (await check.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("line").GetInt32());
        var ok = await s.Client.PostAsJsonAsync("/api/storyline", new { story = Story, frames = 40 });
        Assert.Equal(2, (await ok.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("segments").GetArrayLength());
    }

    [Fact]
    public async Task BodiesOverTheirRoutesLimitAreRefusedByTheRealServer()
    {
        await using var live = (await LiveStudio.Start())!;
        using var http = new HttpClient();
        // A job may carry a first frame (16 MB at most); every other route takes 1 MB.
        var huge = new { story = "0-: " + new string('a', (int)StudioApp.JobBodyLimit + 1), frames = 16 };
        var r = await http.PostAsJsonAsync(live.Url + "/api/jobs", huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.Contains("error", await r.Content.ReadAsStringAsync());
        r = await http.PostAsJsonAsync(live.Url + "/api/storyline", new { story = new string('a', 2 << 20) });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        // 2 MB is within a job's limit: it is read, and refused for what it says (a storyline too long).
        r = await http.PostAsJsonAsync(live.Url + "/api/jobs", new { story = new string('a', 2 << 20), frames = 16 });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Empty(await http.GetFromJsonAsync<JsonElement[]>(live.Url + "/api/jobs") ?? Array.Empty<JsonElement>());
    }

    [Fact]
    public async Task AWorkspaceServesOneServerAndMustBeAFolder()
    {
        await using var s = await TestStudio.Start();
        var e = Assert.Throws<Tensors.SettingException>(
            () => StudioApp.Build(new StudioOptions { Workspace = s.Workspace }));
        Assert.Contains("in use", e.Message);
        Assert.Equal(nameof(StudioOptions.Workspace), e.Setting);
        var file = Path.Combine(s.Workspace, "a-file");
        File.WriteAllText(file, "x");
        Assert.Contains("not a folder", Assert.Throws<Tensors.SettingException>(
            () => StudioApp.Build(new StudioOptions { Workspace = file })).Message);
    }

    [Fact]
    public async Task ARestartKeepsTheHistoryAndRunsWhatWasLeft()
    {
        var workspace = Directory.CreateTempSubdirectory("longshot-studio-").FullName;
        string done, left;
        await using (var s = await TestStudio.Start(workspace))
        {
            done = (await s.Submit(new { story = Story, frames = 32, steps = 1 })).GetProperty("id").GetString()!;
            await s.WaitEnded(done);
        }
        // A job the stopped server had accepted but not run.
        using (var store = new JobStore(Path.Combine(workspace, "studio.db")))
        {
            left = "00000000beef";
            store.Add(new JobRecord(left, JobRunner.Generate,
                new JobSpec { Story = Story, Frames = 32, Steps = 1, Seed = 5 },
                JobStatus.Running, DateTime.UtcNow, DateTime.UtcNow, null, null, null));
        }
        await using (var s = await TestStudio.Start(workspace))
        {
            var jobs = await s.Client.GetFromJsonAsync<JsonElement[]>("/api/jobs");
            Assert.Contains(jobs!, j => j.GetProperty("id").GetString() == done && j.GetProperty("status")
                .GetString() == "done");
            Assert.Equal("done", (await s.WaitEnded(left)).GetProperty("status").GetString());
        }
        Directory.Delete(workspace, true);
    }

    [Fact]
    public async Task RedrawingARangeChangesOnlyItsFrames()
    {
        await using var s = await TestStudio.Start();
        string id = (await s.Submit(new { story = Story, frames = 48, steps = 1 })).GetProperty("id").GetString()!;
        await s.WaitEnded(id);
        var r = await s.Client.PostAsJsonAsync($"/api/jobs/{id}/redraw",
            new { from = 20, to = 26, story = "0-: Wide shot of the desert at dusk." });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        string redraw = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var events = await s.Client.GetStringAsync($"/api/jobs/{redraw}/events");
        Assert.Equal("done", (await s.WaitEnded(redraw)).GetProperty("status").GetString());
        var range = events.Split('\n').First(l => l.Contains("\"type\":\"range\""));
        var e = JsonDocument.Parse(range["data: ".Length..]).RootElement;
        int lo = e.GetProperty("lo").GetInt32(), hi = e.GetProperty("hi").GetInt32();
        Assert.True(lo <= 20 && hi >= 26 && hi - lo < 48, $"range {lo}-{hi}");
        bool changed = false;
        for (int f = 0; f < 48; f++)
        {
            var before = await s.Client.GetByteArrayAsync($"/api/jobs/{id}/frames/{f}");
            var after = await s.Client.GetByteArrayAsync($"/api/jobs/{redraw}/frames/{f}");
            if (f < lo || f >= hi) Assert.True(before.SequenceEqual(after), $"frame {f} outside {lo}-{hi} changed");
            else changed |= !before.SequenceEqual(after);
        }
        Assert.True(changed, "no frame inside the range changed");
        var bad = await s.Client.PostAsJsonAsync($"/api/jobs/{id}/redraw", new { from = 40, to = 99 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}

/// <summary>A studio on a real local port, for a browser test: browsers need one.</summary>
internal sealed class LiveStudio : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _workspace;

    public string Url { get; }

    private LiveStudio(WebApplication app, string workspace, string url)
    {
        _app = app; _workspace = workspace; Url = url;
    }

    /// <summary>
    /// The studio over a fresh workspace, or null when <paramref name="browser"/> is given but not installed (then the
    /// test returns at once); in CI (CI=true), where .ci/run installs the browsers, its absence fails the test.
    /// </summary>
    public static async Task<LiveStudio?> Start(string? browser = null, Action<string>? prepare = null)
    {
        if (browser != null && !File.Exists(browser))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
                throw new InvalidOperationException($"{browser} must be installed in CI (.ci/run installs it).");
            return null;
        }
        var workspace = Directory.CreateTempSubdirectory("longshot-studio-web-").FullName;
        prepare?.Invoke(workspace);
        var app = StudioApp.Build(new StudioOptions { Workspace = workspace, Urls = "http://127.0.0.1:0" });
        await app.StartAsync();
        var server = app.Services.GetRequiredService<IServer>();
        return new LiveStudio(app, workspace, server.Features
            .Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_workspace, true);
    }
}
