using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Longshot.Tensors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Xunit;

namespace Longshot.Studio.Tests;

/// <summary>
/// Other web pages cannot use the studio: any page the user visits can send requests to 127.0.0.1, so simple
/// cross-site requests (text/plain, forms), cross-origin JSON, other Host names (DNS rebinding) and preflights are
/// refused, error bodies name no internal type and echo no input, and an access token, when set, is required.
/// </summary>
[Collection("Studio")]
public class StudioSecurityTests
{
    private const string Story = "0-16: Wide shot of the beach at noon. Ziggy, in an orange shirt, waves.\n" +
                                 "16-: Close-up in the forest at night. Bo, in a red shirt, jumps.\n";

    private static HttpRequestMessage Post(string url, string body, string contentType, string? origin = null,
        string? site = null)
    {
        var m = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8) };
        m.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        if (origin != null) m.Headers.Add("Origin", origin);
        if (site != null) m.Headers.Add("Sec-Fetch-Site", site);
        return m;
    }

    [Fact]
    public async Task SimpleCrossSiteRequestsCannotCancelOrStartJobs()
    {
        await using var s = await TestStudio.Start();
        var first = await s.Submit(new { story = Story, frames = 32, steps = 2 });
        var second = await s.Submit(new { story = Story, frames = 32, steps = 1, seed = 2 });
        string id2 = second.GetProperty("id").GetString()!;

        // What a page sends without a preflight: text/plain, a form, from another origin.
        var plain = await s.Client.SendAsync(Post($"/api/jobs/{id2}/cancel", "{}", "text/plain",
            "http://evil.example"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, plain.StatusCode);
        var form = await s.Client.SendAsync(Post("/api/jobs", "story=0-%3A+a&frames=16",
            "application/x-www-form-urlencoded", "http://evil.example", "cross-site"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
        // JSON from another origin (a browser would preflight it, but a misconfigured one might not).
        var json = await s.Client.SendAsync(Post($"/api/jobs/{id2}/cancel", "{}", "application/json",
            "http://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, json.StatusCode);
        var site = await s.Client.SendAsync(Post("/api/jobs", JsonSerializer.Serialize(new { story = Story,
            frames = 16 }), "application/json", site: "cross-site"));
        Assert.Equal(HttpStatusCode.Forbidden, site.StatusCode);
        Assert.Contains("other web pages", await site.Content.ReadAsStringAsync());

        Assert.Equal(2, (await s.Client.GetFromJsonAsync<JsonElement[]>("/api/jobs"))!.Length);
        Assert.NotEqual("cancelled", (await s.Client.GetFromJsonAsync<JsonElement>($"/api/jobs/{id2}"))
            .GetProperty("status").GetString());
        // The studio's own page (same origin) and programs without an Origin still can.
        var own = await s.Client.SendAsync(Post($"/api/jobs/{id2}/cancel", "{}", "application/json",
            "http://localhost", "same-origin"));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        await s.WaitEnded(first.GetProperty("id").GetString()!);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/api/settings")]
    [InlineData("/api/jobs")]
    public async Task OtherHostNamesAreRefused(string url)
    {
        await using var s = await TestStudio.Start();
        var m = new HttpRequestMessage(HttpMethod.Get, url);
        m.Headers.Host = "evil.example:5091";
        var r = await s.Client.SendAsync(m);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, r.StatusCode);
        Assert.DoesNotContain("evil", await r.Content.ReadAsStringAsync());
        var loopback = new HttpRequestMessage(HttpMethod.Get, url);
        loopback.Headers.Host = "127.0.0.1:5000";
        Assert.Equal(HttpStatusCode.OK, (await s.Client.SendAsync(loopback)).StatusCode);
    }

    [Fact]
    public async Task PreflightsAreNeverGranted()
    {
        await using var s = await TestStudio.Start();
        var m = new HttpRequestMessage(HttpMethod.Options, "/api/jobs");
        m.Headers.Add("Origin", "http://evil.example");
        m.Headers.Add("Access-Control-Request-Method", "POST");
        m.Headers.Add("Access-Control-Request-Headers", "content-type");
        var r = await s.Client.SendAsync(m);
        Assert.False(r.IsSuccessStatusCode, $"{r.StatusCode}");
        Assert.False(r.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task ErrorBodiesNameNoInternalTypeAndEchoNoInput()
    {
        await using var s = await TestStudio.Start();
        var bad = await s.Client.SendAsync(Post("/api/jobs", "{\"frames\": \"many\"}", "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var body = await bad.Content.ReadAsStringAsync();
        Assert.DoesNotContain("JobSpec", body);
        Assert.DoesNotContain("parameter", body);
        Assert.Contains("not valid JSON", body);
        var id = await s.Client.GetAsync("/api/jobs/..%2F..%2Fetc%2Fpasswd");
        Assert.DoesNotContain("passwd", await id.Content.ReadAsStringAsync());
        var path = await s.Client.PostAsJsonAsync("/api/jobs", new { story = "0-: a", frames = 16,
            global = "../../secret-place" });
        Assert.DoesNotContain("secret-place", await path.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnAccessTokenIsRequiredWhenSetAndThePageKeepsItInACookie()
    {
        var workspace = Directory.CreateTempSubdirectory("longshot-studio-token-").FullName;
        try
        {
            await using var app = await StartApp(new StudioOptions { Workspace = workspace, AccessToken = "s3cret" });
            var client = app.Client;
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/settings")).StatusCode);
            var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/settings");
            wrong.Headers.Authorization = new("Bearer", "guess");
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(wrong)).StatusCode);
            var right = new HttpRequestMessage(HttpMethod.Get, "/api/settings");
            right.Headers.Authorization = new("Bearer", "s3cret");
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(right)).StatusCode);
            // The address the server prints: the page is served and the token kept in an HttpOnly cookie.
            var page = await client.GetAsync("/?token=s3cret");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var cookie = Assert.Single(page.Headers.GetValues("Set-Cookie"));
            Assert.Contains("longshot_token=s3cret", cookie);
            Assert.Contains("httponly", cookie.ToLowerInvariant());
            Assert.Contains("samesite=strict", cookie.ToLowerInvariant());
            var withCookie = new HttpRequestMessage(HttpMethod.Get, "/api/jobs");
            withCookie.Headers.Add("Cookie", "longshot_token=s3cret");
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(withCookie)).StatusCode);
        }
        finally { Directory.Delete(workspace, true); }
    }

    [Fact]
    public void ListeningBeyondThisMachineNeedsToBeAllowed()
    {
        var workspace = Directory.CreateTempSubdirectory("longshot-studio-remote-").FullName;
        try
        {
            var e = Assert.Throws<SettingException>(() =>
                StudioApp.Build(new StudioOptions { Workspace = workspace, Urls = "http://0.0.0.0:5000" }));
            Assert.Equal(nameof(StudioOptions.AllowRemote), e.Setting);
            Assert.True(RequestGuard.IsBeyondLoopback("http://*:5000"));
            Assert.True(RequestGuard.IsBeyondLoopback("http://192.168.1.5:5000"));
            Assert.False(RequestGuard.IsBeyondLoopback("http://127.0.0.1:5000;http://[::1]:5000"));
            Assert.False(RequestGuard.IsBeyondLoopback("http://localhost:0"));
        }
        finally { Directory.Delete(workspace, true); }
    }

    private static async Task<TestApp> StartApp(StudioOptions options)
    {
        var app = StudioApp.Build(options, b => b.WebHost.UseTestServer());
        await app.StartAsync();
        return new TestApp(app);
    }

    private sealed class TestApp(WebApplication app) : IAsyncDisposable
    {
        public HttpClient Client { get; } = app.GetTestClient();

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
