using System.Reflection;
using System.Text.Json;
using Longshot.Diffusion.Families;
using Longshot.Diffusion.Output;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Svd;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Schedulers;
using Longshot.Tensors;
using Longshot.Video.Formats;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Longshot.Studio;

/// <summary>
/// Longshot Studio: an ASP.NET Core app that serves its own page (embedded in this assembly) and a JSON API over the
/// job queue. Every client path stays inside the workspace, bodies and numbers are checked (400 with a message), and
/// no stack trace reaches a client.
/// </summary>
public static partial class StudioApp
{
    /// <summary>The app, ready to run; <paramref name="configure"/> may change the host (tests use an in-memory
    /// server).</summary>
    public static WebApplication Build(StudioOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        if (File.Exists(options.Workspace))
            throw new SettingException(nameof(StudioOptions.Workspace),
                $"{options.Workspace} is a file, not a folder.");
        if (RequestGuard.IsBeyondLoopback(options.Urls) && !options.AllowRemote)
            throw new SettingException(nameof(StudioOptions.AllowRemote),
                $"{options.Urls} reaches beyond this machine; allow remote clients explicitly (and set an access " +
                "token) to serve there.");
        var guard = new RequestGuard(options.Urls, options.AllowedHosts, options.AccessToken);
        Directory.CreateDirectory(options.Workspace);
        var workspaceLock = LockWorkspace(options.Workspace);
        var builder = WebApplication.CreateSlimBuilder(
            new WebApplicationOptions { ContentRootPath = options.Workspace });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1 << 20);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Failed requests are answered (and 500s logged) by WriteError; the middleware's own log would repeat each
        // client mistake with a stack trace.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware", LogLevel.None);
        // Bodies that do not bind (not JSON, wrong types) become exceptions, answered as JSON by WriteError too.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        var workspace = new WorkspacePaths(options.Workspace);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(workspace);
        var store = new JobStore(Path.Combine(workspace.Root, "studio.db"));
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<JobRunner>();
        builder.Services.AddHostedService(s => s.GetRequiredService<JobRunner>());
        configure?.Invoke(builder);
        var app = builder.Build();
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            store.Dispose();
            workspaceLock.Dispose();
        });
        app.Use(async (context, next) =>
        {
            if (guard.Refusal(context.Request) is var (status, message))
            {
                context.Response.StatusCode = status;
                await context.Response.WriteAsJsonAsync(new { error = message });
                return;
            }
            if (guard.NeedsToken && guard.IsToken(context.Request.Query["token"]))
                context.Response.Cookies.Append(RequestGuard.TokenCookie, context.Request.Query["token"]!,
                    new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });
            await next();
        });
        app.UseExceptionHandler(e => e.Run(WriteError));
        // Statuses the framework answers without a body (413 for a body over the limit, 404 for an unknown path)
        // get the same JSON shape as every other error.
        app.UseStatusCodePages(async s => await s.HttpContext.Response.WriteAsJsonAsync(new
        {
            error = s.HttpContext.Response.StatusCode switch
            {
                413 => "the request body is larger than 1 MB.",
                404 => "not found.",
                405 => "this method is not allowed here.",
                var code => ReasonPhrases.GetReasonPhrase(code).ToLowerInvariant() + ".",
            },
        }));
        MapPage(app);
        MapApi(app, options, workspace);
        return app;
    }


    /// <summary>
    /// One server per workspace: two would run the same queued jobs twice. The lock (workspace/studio.lock) goes with
    /// the process, however it ends.
    /// </summary>
    private static FileStream LockWorkspace(string workspace)
    {
        try
        {
            return new FileStream(Path.Combine(workspace, "studio.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite,
                FileShare.None);
        }
        catch (IOException)
        {
            throw new SettingException(nameof(StudioOptions.Workspace), $"{workspace} is in use by another " +
                "studio; stop it or choose another workspace.");
        }
    }

    /// <summary>Errors as JSON: a user's mistake is a 400 with its message; anything else a 500 without
    /// details.</summary>
    private static async Task WriteError(HttpContext context)
    {
        var e = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var (code, message) = e switch
        {
            LongshotException l => (400, PageMessages.For(l)),
            // The framework's own message names internal types ("Failed to read parameter \"JobSpec spec\""...).
            Microsoft.AspNetCore.Http.BadHttpRequestException b =>
                (b.StatusCode, b.StatusCode == 400 ? "the request body is not valid JSON for this call."
                    : "the request is not valid."),
            JsonException => (400, "the request body is not valid JSON for this call."),
            KeyNotFoundException => (404, "no such job."),
            _ => (500, "internal error; the server log has the details."),
        };
        if (code == 500) context.RequestServices.GetRequiredService<ILogger<JobRunner>>().LogError(e, "request failed");
        context.Response.StatusCode = code;
        await context.Response.WriteAsJsonAsync(new { error = message });
    }

    private static void MapPage(WebApplication app)
    {
        foreach (var (route, file, type) in new[]
                 {
                     ("/", "index.html", "text/html; charset=utf-8"),
                // A job's own address: the same page, which opens the job named in its path.
                ("/jobs/{id}", "index.html", "text/html; charset=utf-8"),
                     ("/app.js", "app.js", "text/javascript; charset=utf-8"),
                     ("/style.css", "style.css", "text/css; charset=utf-8"),
                 })
            app.MapGet(route, () => Results.Stream(Asset(file), type));
    }

    private static Stream Asset(string name) =>
        Assembly.GetExecutingAssembly().GetManifestResourceStream("wwwroot/" + name)
        ?? throw new InvalidOperationException($"the page asset {name} is missing from the assembly.");

    private static void MapApi(WebApplication app, StudioOptions options, WorkspacePaths workspace)
    {
        var api = app.MapGroup("/api");

        api.MapGet("/settings", () => new
        {
            maxFrames = options.MaxFrames, schemes = GenerationSchemes.OnStoryModels.Select(s => s.Name),
            samplers = Scheduler.Names, ffmpeg = FFmpeg.IsAvailable, models = Models(workspace),
            presets = StudioPresets.All, fps = Storyline.DefaultFps,
        });

        // Inline validation: the same parser as the command line; the line of the problem comes back apart.
        api.MapPost("/storyline", (StorylineCheck body) =>
        {
            if (body.Frames is < 1 || body.Frames > options.MaxFrames)
                throw new SettingException("Frames", $"must be between 1 and {options.MaxFrames}.");
            try
            {
                var s = Storyline.Parse(body.Story ?? "", Storyline.DefaultFps, body.Frames, "storyline");
                int frames = body.Frames ?? s.Frames;
                return Results.Ok(new { frames, segments = s.Segments, warnings = PastTheEnd(s, frames) });
            }
            catch (StorylineException e)
            {
                return Results.BadRequest(new { error = e.Problem, line = e.Line });
            }
        });

        api.MapPost("/jobs", (JobSpec spec, JobRunner runner) =>
        {
            var job = runner.Submit(runner.KindOf(spec), spec with { Parent = null });
            return Results.Created($"/api/jobs/{job.Id}", job);
        }).WithMetadata(new BodyLimit(JobBodyLimit));

        api.MapPost("/jobs/{id}/redraw", (string id, RedrawBody body, JobRunner runner, JobStore store) =>
        {
            var parent = store.Get(WorkspacePaths.CheckId(id)) ?? throw new KeyNotFoundException(id);
            var spec = parent.Spec with
            {
                Parent = parent.Id, From = body.From, To = body.To, Story = body.Story ?? parent.Spec.Story,
                Seed = body.Seed ?? parent.Spec.Seed + 1,
            };
            var job = runner.Submit(JobRunner.Redraw, spec);
            return Results.Created($"/api/jobs/{job.Id}", job);
        });

        api.MapPost("/jobs/{id}/rerun", (string id, RerunBody? body, JobRunner runner) =>
        {
            var job = runner.Rerun(WorkspacePaths.CheckId(id), body?.Seed);
            return Results.Created($"/api/jobs/{job.Id}", job);
        });

        api.MapDelete("/jobs/{id}", (string id, JobRunner runner) =>
            runner.Delete(WorkspacePaths.CheckId(id)) is { } refusal ? Results.Conflict(new { error = refusal })
                : Results.Ok(new { deleted = true }));

        api.MapGet("/jobs", (JobStore store) => store.All());

        api.MapGet("/jobs/{id}",
            (string id, JobStore store) => store.Get(WorkspacePaths.CheckId(id)) ?? throw new KeyNotFoundException(id));

        api.MapPost("/jobs/{id}/cancel", (string id, JobRunner runner) =>
            runner.Cancel(WorkspacePaths.CheckId(id)) ? Results.Ok(new { cancelled = true })
                : Results.Conflict(new { error = "the job has already ended." }));

        api.MapGet("/jobs/{id}/events", async (string id, HttpContext context, JobRunner runner, JobStore store) =>
        {
            var job = store.Get(WorkspacePaths.CheckId(id)) ?? throw new KeyNotFoundException(id);
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            if (job.Status is not (JobStatus.Queued or JobStatus.Running))
            {
                // Ended before this server started: its files say everything; the page reloads them.
                await context.Response.WriteAsync($"data: " +
                    $"{JobRunner.Event("status", new { status = job.Status, error = job.Error })}\n\n");
                return;
            }
            await foreach (var e in runner.Events(job.Id).Follow(context.RequestAborted))
            {
                await context.Response.WriteAsync($"data: {e}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        });

        api.MapGet("/jobs/{id}/video", (string id, JobStore store) =>
        {
            var job = store.Get(WorkspacePaths.CheckId(id)) ?? throw new KeyNotFoundException(id);
            if (job.Video == null) return Results.NotFound(new { error = "the job has no video (yet)." });
            var path = workspace.Resolve(job.Video.Replace(Path.DirectorySeparatorChar, '/'));
            return Results.File(path, job.Video.EndsWith(".mp4") ? "video/mp4" : "image/gif",
                $"longshot-{job.Id}{Path.GetExtension(path)}", enableRangeProcessing: true);
        });

        // The contact sheets of a finished story job, one per level of its plan.
        api.MapGet("/jobs/{id}/sheets", (string id, JobStore store) =>
            Sheets(workspace, store, id)
                .Select((_, k) => new { level = k + 1, url = $"/api/jobs/{id}/sheets/{k + 1}" }));
        api.MapGet("/jobs/{id}/sheets/{level:int}", (string id, int level, JobStore store) =>
        {
            var sheets = Sheets(workspace, store, id);
            return level >= 1 && level <= sheets.Count
                ? Results.File(sheets[level - 1], "image/png", $"longshot-{id}-level{level}.png")
                : Results.NotFound(new { error = "no such contact sheet." });
        });

        // A small picture of the job for the history: its first frame, else its first preview, else its first frame
        // as given (image-to-video).
        api.MapGet("/jobs/{id}/thumbnail", (string id) =>
        {
            var dir = workspace.Job(WorkspacePaths.CheckId(id));
            var first = new[] { Path.Combine(dir, "frames", $"{0:D6}.png"), Path.Combine(dir, "init.png") }
                .Concat(Directory.Exists(Path.Combine(dir, "keys"))
                    ? Directory.GetFiles(Path.Combine(dir, "keys"), "*.png").Order() : [])
                .FirstOrDefault(File.Exists);
            return first != null ? Results.File(first, "image/png")
                : Results.NotFound(new { error = "the job has no picture yet." });
        });

        api.MapGet("/jobs/{id}/frames/{index:int}", (string id, int index, bool? download) =>
            Image(workspace, id, "frames", index, download == true ? $"longshot-{id}-frame{index}.png" : null));
        api.MapGet("/jobs/{id}/keys/{index:int}", (string id, int index) => Image(workspace, id, "keys", index, null));
    }

    private static IResult Image(WorkspacePaths workspace, string id, string kind, int index, string? downloadName)
    {
        if (index < 0) return Results.NotFound(new { error = "no such frame." });
        var path = Path.Combine(workspace.Job(id), kind, $"{index:D6}.png");
        return File.Exists(path) ? Results.File(path, "image/png", downloadName)
            : Results.NotFound(new { error = "no such frame (yet)." });
    }

    /// <summary>The contact sheet files of a job's video, level 1 first (none for a job without sheets).</summary>
    private static List<string> Sheets(WorkspacePaths workspace, JobStore store, string id)
    {
        var job = store.Get(WorkspacePaths.CheckId(id)) ?? throw new KeyNotFoundException(id);
        var list = new List<string>();
        if (job.Video == null) return list;
        var video = workspace.Resolve(job.Video.Replace(Path.DirectorySeparatorChar, '/'));
        for (int k = 0; File.Exists(GenerationOutput.SheetPath(video, k)); k++)
            list.Add(GenerationOutput.SheetPath(video, k));
        return list;
    }

    /// <summary>What the page should know about segments that run past the video's end: their frames there are not
    /// made.</summary>
    private static string[] PastTheEnd(Storyline story, int frames) => story.Segments
        .Where(x => x.End > frames)
        .Select(x => x.Start >= frames
            ? $"{x.Start}-{x.End} starts past the video's {frames} frames; it is not used."
            : $"{x.Start}-{x.End} runs past the video's {frames} frames; only {x.Start}-{frames} is made.")
        .ToArray();

    /// <summary>The models a job may name: the shipped ones (null) and the folders under workspace/models that the
    /// model-family registry loads as story, image-to-video or text-to-video models, each with its family and
    /// kind.</summary>
    private static object[] Models(WorkspacePaths workspace)
    {
        var story = ModelFamilies.Of<MtdPipelineParts>();
        var imageToVideo = ModelFamilies.Of<SvdPipeline>();
        var textToVideo = ModelFamilies.Of<Longshot.Diffusion.TextToVideo.TextToVideoPipeline>();
        var list = new List<object>
        {
            new { name = "shipped", path = (string?)null, family = story.Title, kind = "story" },
        };
        var dir = Path.Combine(workspace.Root, "models");
        if (Directory.Exists(dir))
            foreach (var d in Directory.GetDirectories(dir).Order())
            {
                var family = FamilyOf(d);
                string? kind = family == story ? "story" : family == imageToVideo ? "image-to-video"
                    : family == textToVideo ? "text-to-video" : null;
                if (kind != null)
                    list.Add(new { name = Path.GetFileName(d), path = (string?)("models/" + Path.GetFileName(d)),
                        family = family!.Title, kind });
            }
        return list.ToArray();
    }

    /// <summary>The family of a folder, or null when it is not a model folder Longshot loads.</summary>
    private static ModelFamily? FamilyOf(string folder)
    {
        try { return ModelFamilies.Find(folder); }
        catch (LongshotException) { return null; }
    }

    /// <summary>Largest body of POST /api/jobs: a first frame for image-to-video travels in it as base64 (room for a
    /// 1024x576 photo); every other route takes at most 1 MB.</summary>
    public const long JobBodyLimit = 16 << 20;

    /// <summary>A route's own body limit, which the server applies instead of its 1 MB.</summary>
    private sealed class BodyLimit(long bytes) : Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => bytes;
    }

    /// <summary>Body of POST /api/storyline.</summary>
    public sealed record StorylineCheck(string? Story, int? Frames);

    /// <summary>Body of POST /api/jobs/{id}/rerun: the seed (null: a random one).</summary>
    public sealed record RerunBody(ulong? Seed);

    /// <summary>Body of POST /api/jobs/{id}/redraw: the range [From, To), and the new prompt and/or seed.</summary>
    public sealed record RedrawBody(int From, int To, string? Story, ulong? Seed);
}
