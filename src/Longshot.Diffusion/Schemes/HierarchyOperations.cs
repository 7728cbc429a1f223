using Longshot.Diffusion.Pipelines;
using Longshot.Tensors;

namespace Longshot.Diffusion.Schemes;

/// <summary>
/// What only diffusion over diffusion can do, because it keeps every unit: its global keyframes alone, the latents of
/// a finished run, and a frame range redrawn while every other frame stays identical.
/// </summary>
public static class HierarchyOperations
{
    /// <summary>
    /// Only the global model's keyframes of a DoD request (level 1 of its schedule), exactly as a full run of the same
    /// request samples them: a quick look at whether a story's keyframes carry it, since the levels below keep what
    /// the keyframes show.
    /// </summary>
    public static Dictionary<int, Tensor> GenerateKeyframes(this LongVideoPipeline pipe, GenerationRequest r,
        CancellationToken ct = default)
    {
        var dod = r.Validate().Scheme as DiffusionOverDiffusion ?? throw new SettingException(
            nameof(GenerationRequest.Scheme), $"only the dod scheme has global keyframes, not " +
            $"{r.Scheme.Name}.");
        pipe.CheckUnitLength(r.Length);
        var known = new Dictionary<int, Tensor>();
        var units = dod.Schedule(r).Levels[0].ToList();
        var outs = pipe.SampleBatch(r, units, known, ct);
        for (int i = 0; i < units.Count; i++) LongVideoPipeline.Record(units[i], outs[i], known);
        return known;
    }

    /// <summary>The latents of a finished run of <paramref name="r"/> (its <see
    /// cref="GenerationRequest.RunDir"/>).</summary>
    public static Dictionary<int, Tensor> LoadRun(this LongVideoPipeline pipe, GenerationRequest r)
    {
        var dod = RequireHierarchy(r);
        if (r.RunDir == null)
            throw new SettingException(nameof(r.RunDir), "the run folder of the original generation is needed.");
        if (!Directory.Exists(r.RunDir))
            throw new SettingException(nameof(r.RunDir), $"run folder not found: {r.RunDir}");
        using var run = UnitStore.Open(r.RunDir, r.Identity);
        var known = new Dictionary<int, Tensor>();
        foreach (var u in dod.Schedule(r).Units)
            LongVideoPipeline.Record(u, run.TryLoad(u, pipe.UnitShape(u)) ?? throw new SettingException(
                nameof(r.RunDir), $"{r.RunDir}: unit {u.Index} of level {u.Level} is missing; finish the run first " +
                    "(generate again with this run folder)."),
                known);
        return known;
    }

    /// <summary>
    /// Local regeneration: redraws frames [from, to) of an existing video (its latents) with the storyline and seed of
    /// <paramref name="redraw"/>, recomputing only the units under the range. The range is widened to whole
    /// finest-level gaps; a coarser unit is redrawn only when everything it generates lies inside that range, and a
    /// unit whose given frames were redrawn is redrawn too. Latents outside the returned [Lo, Hi) stay identical;
    /// <see cref="LongVideoPipeline.DecodeRegeneration"/> keeps the decoded frames outside it identical too.
    /// </summary>
    public static Regeneration Regenerate(this LongVideoPipeline pipe, Dictionary<int, Tensor> latents,
        GenerationRequest redraw, int from, int to, CancellationToken ct = default)
    {
        var dod = RequireHierarchy(redraw);
        int frames = redraw.Frames;
        if (from < 0 || to > frames || from >= to)
            throw new SettingException("Range", $"{from}-{to} is not inside the video's {frames} frames.");
        var schedule = dod.Schedule(redraw);
        if (schedule.Levels.Count < 2)
            throw new SettingException("Range", "a video made by the global model alone has no local units to " +
                "redraw.");
        // The finest units are those that reach consecutive frames (at the last level, or earlier where a gap was
        // already shorter than L).
        static bool Finest(WorkUnit u) => u.Positions.Zip(u.Positions.Skip(1), (a, b) => b - a).All(d => d == 1);
        var finest = schedule.Levels.Skip(1).SelectMany(l => l)
            .Where(u => Finest(u) && u.Generates.Any(p => p >= from && p < to)).ToList();
        var widened = finest.SelectMany(u => u.Generates).Append(from).Append(to - 1).ToList();
        int lo = widened.Min(), hi = widened.Max() + 1;
        var known = new Dictionary<int, Tensor>(latents);
        var redrawn = new HashSet<int>();
        for (int k = 1; k < schedule.Levels.Count; k++)
        {
            var units = schedule.Levels[k].Where(u =>
                u.Positions.Where((_, i) => u.Given[i]).Any(redrawn.Contains)
                || (Finest(u) ? finest.Contains(u) : u.Generates.All(p => p >= lo && p < hi)))
                    .ToList();
            foreach (var batch in units.GroupBy(u => u.Spacing).SelectMany(g => g.Chunk(pipe.BatchSize))
                .Select(c => c.ToList()))
            {
                var outs = pipe.LocalSampler.Sample(batch.Select(u => LongVideoPipeline.ToClip(u, redraw.Story, known,
                    redraw.Seed)).ToList(), redraw.Sampler, ct);
                for (int i = 0; i < batch.Count; i++)
                {
                    LongVideoPipeline.Record(batch[i], outs[i], known);
                    foreach (var p in batch[i].Generates) redrawn.Add(p);
                }
            }
        }
        // Units can redraw frames past the range (a coarser unit's given frame): report the whole span changed.
        var changed = redrawn.Where(p => p < frames).ToList();
        if (changed.Count > 0) { lo = Math.Min(lo, changed.Min()); hi = Math.Max(hi, changed.Max() + 1); }
        return new Regeneration(latents, known, frames, lo, hi);
    }

    /// <summary>Validates a request whose run is redrawn: only diffusion over diffusion keeps units to
    /// redraw.</summary>
    private static DiffusionOverDiffusion RequireHierarchy(GenerationRequest r)
    {
        r.Validate();
        return r.Scheme as DiffusionOverDiffusion ?? throw new SettingException("Range", "a range can be redrawn " +
            "only in a diffusion-over-diffusion run.");
    }
}
