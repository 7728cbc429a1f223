using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Longshot.Diffusion;
using Longshot.Diffusion.Families;
using Longshot.Diffusion.Output;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Svd;
using Longshot.Diffusion.TextToVideo;
using Longshot.Tensors;
using Longshot.Video.Formats;
using Longshot.Video.Imaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Longshot.Studio;

/// <summary>
/// The job queue: one job computes at a time, the others wait in order. A job generates a video (frames, keyframe
/// previews and progress go out as events while it runs) or redraws a range of a finished one. Jobs that were queued
/// or running when the server stopped are picked up again at start; a running one resumes from its run folder.
/// </summary>
public sealed class JobRunner(StudioOptions options, JobStore store, WorkspacePaths workspace, ILogger<JobRunner> log)
    : BackgroundService
{
    public const string Generate = "generate", Redraw = "redraw", ImageToVideo = "image-to-video",
        TextToVideo = "text-to-video";

    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>();
    private readonly ConcurrentDictionary<string, JobEvents> _events = new();
    private readonly Dictionary<(string?, string?), LongVideoPipeline> _pipelines = new();
    private readonly Dictionary<string, SvdPipeline> _imageToVideo = new();
    private readonly Dictionary<string, TextToVideoPipeline> _textToVideo = new();
    private readonly object _current = new();
    /// <summary>Held while jobs are added or deleted, so a redraw cannot be queued on a job being deleted.</summary>
    private readonly object _history = new();
    private (string Id, CancellationTokenSource Cts)? _running;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Validates and queues a job; throws <see cref="LongshotException"/> (a 400) when it cannot
    /// run.</summary>
    public JobRecord Submit(string kind, JobSpec spec)
    {
        lock (_history) return SubmitLocked(kind, spec);
    }

    private JobRecord SubmitLocked(string kind, JobSpec spec)
    {
        if (store.Unfinished().Count >= options.MaxQueuedJobs)
            throw new LongshotException($"the queue already holds {options.MaxQueuedJobs} jobs; wait or cancel one.");
        string id = Guid.NewGuid().ToString("N")[..12];
        if (kind == ImageToVideo) spec = StoreFirstFrame(id, spec);
        else if (kind == TextToVideo)
        {
            spec.TextToVideo(options.MaxFrames);
            PublishedFolder<TextToVideoPipeline>(spec.Model, "text-to-video");
            spec = spec with { Image = null, Story = "", Global = null, Local = null };
        }
        else if (kind == Generate) spec.Request(options.MaxFrames, null);
        else CheckRedraw(spec);
        ModelFolder(spec.Global, "global");
        ModelFolder(spec.Local, "local");
        var job = new JobRecord(id, kind, spec, JobStatus.Queued, DateTime.UtcNow, null, null, null, null);
        store.Add(job);
        Events(id).Add(Event("status", new { status = JobStatus.Queued }));
        _queue.Writer.TryWrite(id);
        return job;
    }

    /// <summary>Cancels a queued or running job; false when it had already ended.</summary>
    public bool Cancel(string id)
    {
        var job = store.Get(id) ?? throw new KeyNotFoundException(id);
        if (job.Status == JobStatus.Queued)
        {
            store.SetStatus(id, JobStatus.Cancelled);
            Finish(id, JobStatus.Cancelled, null);
            return true;
        }
        lock (_current)
            if (_running is { } r && r.Id == id) { r.Cts.Cancel(); return true; }
        return false;
    }

    /// <summary>Queues a finished (or failed, or cancelled) job again with another seed (a random one when
    /// <paramref name="seed"/> is null); an image-to-video job takes its stored first frame.</summary>
    public JobRecord Rerun(string id, ulong? seed)
    {
        var job = store.Get(id) ?? throw new KeyNotFoundException(id);
        var spec = job.Spec with { Seed = seed ?? (ulong)Random.Shared.NextInt64(1, 1L << 31) };
        if (job.Kind == ImageToVideo)
        {
            var init = Path.Combine(workspace.Job(id), "init.png");
            if (!File.Exists(init)) throw new SettingException("Image", "the job's first frame is no longer there.");
            spec = spec with { Image = Convert.ToBase64String(File.ReadAllBytes(init)) };
        }
        return Submit(job.Kind, spec);
    }

    /// <summary>Deletes an ended job: its row, its folder and its run folder. Returns why it cannot be deleted
    /// (still queued or running, or a queued redraw needs it), or null once it is gone.</summary>
    public string? Delete(string id)
    {
        lock (_history)
        {
            var job = store.Get(id) ?? throw new KeyNotFoundException(id);
            if (job.IsUnfinished) return "the job has not ended; cancel it first.";
            if (store.Unfinished().Any(j => j.Spec.Parent == id))
                return "a redraw of this job is waiting to run; cancel it first.";
            store.Delete(id);
            _events.TryRemove(id, out _);
        }
        foreach (var dir in new[] { workspace.Job(id), workspace.Run(id) })
        {
            try { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning("job {Id} deleted, but {Dir} could not be removed: {Message}", id, dir, e.Message);
            }
        }
        return null;
    }

    /// <summary>The events of a job (replayed, then live).</summary>
    public JobEvents Events(string id) => _events.GetOrAdd(id, _ => new JobEvents());

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        foreach (var job in store.Unfinished())
        {
            if (job.Status == JobStatus.Running) log.LogInformation("resuming job {Id} from its run folder", job.Id);
            _queue.Writer.TryWrite(job.Id);
        }
        await foreach (var id in _queue.Reader.ReadAllAsync(stopping))
        {
            var job = store.Get(id);
            if (job is not { Status: JobStatus.Queued or JobStatus.Running }) continue;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            lock (_current) _running = (id, cts);
            try { await Task.Run(() => Run(job, cts.Token), CancellationToken.None); }
            finally { lock (_current) _running = null; }
        }
    }

    private void Run(JobRecord job, CancellationToken ct)
    {
        store.SetStatus(job.Id, JobStatus.Running);
        var events = Events(job.Id);
        events.Add(Event("status", new { status = JobStatus.Running }));
        try
        {
            string video = job.Kind switch
            {
                Redraw => RunRedraw(job, events, ct),
                ImageToVideo => RunImageToVideo(job, events, ct),
                TextToVideo => RunTextToVideo(job, events, ct),
                _ => RunGenerate(job, events, ct),
            };
            store.SetStatus(job.Id, JobStatus.Done, video: video);
            Finish(job.Id, JobStatus.Done, null);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The server stopping leaves the job "running" in the history: it resumes from its run folder at the next
            // start. Otherwise a client cancelled it.
            if (!_stopping)
            {
                store.SetStatus(job.Id, JobStatus.Cancelled);
                Finish(job.Id, JobStatus.Cancelled, null);
            }
        }
        catch (Exception e)
        {
            string message = e is LongshotException or IOException ? e.Message : $"internal error ({e.GetType().Name})";
            if (e is not LongshotException) log.LogError(e, "job {Id} failed", job.Id);
            store.SetStatus(job.Id, JobStatus.Failed, message);
            Finish(job.Id, JobStatus.Failed, message);
        }
    }

    private volatile bool _stopping;

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        return base.StopAsync(cancellationToken);
    }

    private string RunGenerate(JobRecord job, JobEvents events, CancellationToken ct)
    {
        var request = job.Spec.Request(options.MaxFrames, workspace.Run(job.Id));
        var pipe = Pipeline(job.Spec);
        var plan = LongVideoPipeline.Plan(request);
        var dir = Begin(job.Id, plan, events);
        Directory.CreateDirectory(Path.Combine(dir, "keys"));
        var shown = plan.LevelFrames.Select(f => GenerationOutput.SheetFrames(f).ToHashSet()).ToArray();
        pipe.UnitFinished = (unit, latents) => Preview(pipe, unit, latents, shown, request.Frames, dir, events);
        try
        {
            return WriteVideo(dir, plan, pipe.GenerateFrames(request, new Progress(events), ct), request.Story, events);
        }
        finally { pipe.UnitFinished = null; }
    }

    private string RunRedraw(JobRecord job, JobEvents events, CancellationToken ct)
    {
        var parent = CheckRedraw(job.Spec);
        var original = parent.Spec.Request(options.MaxFrames, workspace.Run(parent.Id));
        var redraw = original with
        {
            Story = Storyline.Parse(job.Spec.Story, Storyline.DefaultFps, original.Frames, "storyline"),
            Seed = job.Spec.Seed,
            RunDir = null,
        };
        var pipe = Pipeline(parent.Spec);
        var plan = LongVideoPipeline.Plan(original);
        var dir = Begin(job.Id, plan, events);
        var g = pipe.Regenerate(pipe.LoadRun(original), redraw, job.Spec.From, job.Spec.To, ct);
        events.Add(Event("range", new { lo = g.Lo, hi = g.Hi }));
        return WriteVideo(dir, plan, pipe.DecodeRegeneration(g, ct), redraw.Story, events);
    }

    /// <summary>Checks an image-to-video spec and keeps its first frame as the job's init.png; the stored spec names
    /// no image data.</summary>
    private JobSpec StoreFirstFrame(string id, JobSpec spec)
    {
        spec.ImageToVideo(options.MaxFrames);
        ImageToVideoFolder(spec.Model);
        byte[] png;
        try { png = Convert.FromBase64String(spec.Image ?? throw new FormatException()); }
        catch (FormatException) { throw new SettingException("Image", "a PNG image is needed (base64)."); }
        try { Png.Decode(png); }
        catch (Exception e) when (e is LongshotException or InvalidDataException or IOException)
        {
            throw new SettingException("Image", "is not a readable PNG.");
        }
        var dir = workspace.Job(id);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "init.png"), png);
        return spec with { Image = null, Story = "", Global = null, Local = null };
    }

    /// <summary>A published image-to-video model folder named by a client, inside the workspace.</summary>
    private string ImageToVideoFolder(string? relative) => PublishedFolder<SvdPipeline>(relative, "image-to-video");

    /// <summary>A published model folder of the family <typeparamref name="TModel"/> loads from, named by a client,
    /// inside the workspace.</summary>
    private string PublishedFolder<TModel>(string? relative, string kind) where TModel : class
    {
        if (relative == null) throw new SettingException("Model", $"choose an {kind} model.");
        var path = workspace.Resolve(relative);
        try { ModelFamilies.Require<TModel>(path); }
        catch (LongshotException) { throw new SettingException("Model", $"not a {kind} model folder in the " +
            "workspace."); }
        return path;
    }

    /// <summary>The job kind of a spec: a storyline job, or the kind of its published model's family.</summary>
    public string KindOf(JobSpec spec)
    {
        if (spec.Model == null) return Generate;
        ModelFamily? family;
        try { family = ModelFamilies.Find(workspace.Resolve(spec.Model)); }
        catch (InputFileException) { throw new SettingException("Model", "not a model folder in the workspace."); }
        return family switch
        {
            TextToVideoPipelineFamily => TextToVideo,
            _ => ImageToVideo,
        };
    }

    private string RunTextToVideo(JobRecord job, JobEvents events, CancellationToken ct)
    {
        var settings = job.Spec.TextToVideo(options.MaxFrames);
        var folder = PublishedFolder<TextToVideoPipeline>(job.Spec.Model, "text-to-video");
        if (!_textToVideo.TryGetValue(folder, out var pipe))
            _textToVideo[folder] = pipe = TextToVideoPipeline.Load(folder);
        var dir = workspace.Job(job.Id);
        Directory.CreateDirectory(Path.Combine(dir, "frames"));
        events.Add(Event("plan", new { frames = settings.Frames, levels = new[] { GenerationOutput.SheetFrames(
            Enumerable.Range(0, settings.Frames).ToArray()) } }));
        var video = pipe.Generate(settings, null, new PageStepProgress(events), ct, workspace.Run(job.Id));
        // ModelScope's videos are written at 8 fps (diffusers' export_to_video), VideoCrafter2's at the rate it is
        // told.
        return WriteFrames(dir, video, job.Spec.Fps ?? (pipe.Unet.Config.HasFps ? (int)settings.Fps : 8), events);
    }

    /// <summary>Frames [F, 3, H, W] in [-1, 1] as PNGs and the video (MP4 with ffmpeg, else GIF), each frame
    /// announced; returns the video's path relative to the workspace.</summary>
    private string WriteFrames(string dir, Tensor video, int fps, JobEvents events)
    {
        string path = Path.Combine(dir, "video" + (FFmpeg.IsAvailable ? ".mp4" : ".gif"));
        using (var writer = VideoWriters.Create(path, fps))
        {
            for (int f = 0; f < video.Shape[0]; f++)
            {
                var frame = Frame.FromTensor(video.Narrow(0, f, 1).Squeeze(0));
                Png.Save(Path.Combine(dir, "frames", $"{f:D6}.png"), frame);
                writer.Write(frame);
                events.Add(Event("frame", new { index = f }));
            }
            writer.Complete();
        }
        return Path.GetRelativePath(workspace.Root, path);
    }

    private string RunImageToVideo(JobRecord job, JobEvents events, CancellationToken ct)
    {
        var settings = job.Spec.ImageToVideo(options.MaxFrames);
        var folder = ImageToVideoFolder(job.Spec.Model);
        if (!_imageToVideo.TryGetValue(folder, out var pipe)) _imageToVideo[folder] = pipe = SvdPipeline.Load(folder);
        var dir = workspace.Job(job.Id);
        Directory.CreateDirectory(Path.Combine(dir, "frames"));
        var image = Png.Load(Path.Combine(dir, "init.png")).ToTensor();
        int frames = settings.Frames ?? pipe.Unet.Config.NumFrames;
        events.Add(Event("plan", new { frames, levels = new[] { GenerationOutput.SheetFrames(
            Enumerable.Range(0, frames).ToArray()) } }));
        var video = pipe.Generate(image, settings, null, new PageStepProgress(events), ct, workspace.Run(job.Id));
        return WriteFrames(dir, video, settings.Fps, events);
    }

    /// <summary>A published pipeline's steps as the page's progress events (one level; the ETA from the steps'
    /// pace).</summary>
    private sealed class PageStepProgress(JobEvents events) : IProgress<StepProgress>
    {
        private readonly UnitPace _pace = new();

        public void Report(StepProgress p)
        {
            if (p.Stage != "denoise") return;
            events.Add(Event("progress", new
            {
                level = 1, levels = 1, done = p.Done, total = p.Total, eta = _pace.Report(p.Done, p.Total),
            }));
        }
    }

    /// <summary>The job's folder, ready for its frames; the page learns the plan's levels.</summary>
    private string Begin(string id, GenerationPlan plan, JobEvents events)
    {
        var dir = workspace.Job(id);
        Directory.CreateDirectory(Path.Combine(dir, "frames"));
        var levels = plan.LevelFrames.Select(GenerationOutput.SheetFrames).ToArray();
        events.Add(Event("plan", new { frames = plan.Frames, levels }));
        return dir;
    }

    /// <summary>Writes the video (MP4 with ffmpeg, else GIF), saving and announcing every frame; returns its path
    /// relative to the workspace.</summary>
    private string WriteVideo(string dir, GenerationPlan plan, IEnumerable<Tensor> frames, Storyline story,
        JobEvents events)
    {
        string video = Path.Combine(dir, "video" + (FFmpeg.IsAvailable ? ".mp4" : ".gif"));
        GenerationOutput.Write(plan, frames, video, GenerationOutput.Caption(story), (i, frame) =>
        {
            Png.Save(Path.Combine(dir, "frames", $"{i:D6}.png"), frame);
            events.Add(Event("frame", new { index = i }));
        });
        return Path.GetRelativePath(workspace.Root, video);
    }

    /// <summary>The frames a finished unit made that its level's strip shows, each decoded on its own as soon as the
    /// unit exists (a preview: the video decodes them again with their neighbours), so every level fills in live.
    /// </summary>
    private static void Preview(LongVideoPipeline pipe, WorkUnit unit, Tensor latents, HashSet<int>[] shown,
        int frames, string dir, JobEvents events)
    {
        if (unit.Level > shown.Length) return;
        using var _ = Tensor.NoGrad();
        for (int f = 0; f < unit.Positions.Length; f++)
        {
            int p = unit.Positions[f];
            if (unit.Given[f] || p >= frames || !shown[unit.Level - 1].Contains(p)) continue;
            var z = pipe.Vae.UnscaleLatents(latents.Narrow(0, f, 1).Contiguous());
            Png.Save(Path.Combine(dir, "keys", $"{p:D6}.png"),
                Frame.FromTensor(pipe.Vae.Decode(z, frames: 1).Squeeze(0)));
            events.Add(Event("preview", new { index = p, level = unit.Level }));
        }
    }

    private JobRecord CheckRedraw(JobSpec spec)
    {
        var parent = spec.Parent is { } p ? store.Get(WorkspacePaths.CheckId(p)) : null;
        if (parent is not { Kind: Generate, Status: JobStatus.Done })
            throw new SettingException("Parent", "the job to redraw must be a finished generation.");
        if (GenerationSchemes.TryParse(parent.Spec.Scheme) is not { Redraws: true })
            throw new SettingException("Range", "only diffusion-over-diffusion videos can be redrawn.");
        if (spec.From < 0 || spec.To > parent.Spec.Frames || spec.From >= spec.To)
            throw new SettingException("Range", $"{spec.From}-{spec.To} is not inside the video's " +
                $"{parent.Spec.Frames} frames.");
        Storyline.Parse(spec.Story, Storyline.DefaultFps, parent.Spec.Frames, "storyline");
        return parent;
    }

    /// <summary>The models of a spec (shipped ones by default), loaded once per pair.</summary>
    private LongVideoPipeline Pipeline(JobSpec spec)
    {
        var key = (spec.Global, spec.Local);
        if (!_pipelines.TryGetValue(key, out var pipe))
            _pipelines[key] = pipe = LongVideoPipeline.Load(
                ModelFolder(spec.Global, "global"), ModelFolder(spec.Local, "local"),
                ShippedModels.Vae());
        return pipe;
    }

    /// <summary>A model folder named by a client: inside the workspace, holding a model_index.json.</summary>
    private string ModelFolder(string? relative, string role)
    {
        if (relative == null) return role == "global" ? ShippedModels.Global() : ShippedModels.Local();
        var path = workspace.Resolve(relative);
        string setting = role == "global" ? nameof(JobSpec.Global) : nameof(JobSpec.Local);
        try { ModelFamilies.Require<MtdPipelineParts>(path); }
        catch (LongshotException) { throw new SettingException(setting, "not a model folder in the workspace."); }
        return path;
    }

    private void Finish(string id, string status, string? error)
    {
        var events = Events(id);
        events.Add(Event("status", new { status, error }));
        events.Close();
    }

    internal static string Event(string type, object data)
    {
        var fields = JsonSerializer.SerializeToNode(data, Json)!.AsObject();
        fields["type"] = type;
        return fields.ToJsonString(Json);
    }

    /// <summary>Units done, as events (every unit: they are few and the page shows the hierarchy filling in), with
    /// the time left at the pace of the units after the first.</summary>
    private sealed class Progress(JobEvents events) : IProgress<GenerationProgress>
    {
        private readonly UnitPace _pace = new();

        public void Report(GenerationProgress p) => events.Add(Event("progress", new
        {
            level = p.Level, levels = p.Levels, done = p.AllDone, total = p.AllUnits,
            eta = _pace.Report(p.AllDone, p.AllUnits),
        }));
    }
}
