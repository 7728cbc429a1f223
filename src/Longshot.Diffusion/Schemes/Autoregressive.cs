using Longshot.Diffusion.Pipelines;
using Longshot.Tensors;

namespace Longshot.Diffusion.Schemes;

/// <summary>The autoregressive baseline: the same models, one unit after another, each continuing from the last
/// frame of the one before.</summary>
public sealed record Autoregressive : GenerationScheme
{
    /// <inheritdoc/>
    public override string Name => "ar";

    /// <inheritdoc/>
    public override string Title => "autoregressive";

    /// <inheritdoc/>
    public override GenerationPlan Plan(GenerationRequest r)
    {
        var s = new AutoregressiveSchedule(r.Frames, r.Length);
        return GenerationPlan.OneLevel(this, r.Frames, s.Units.Count, s.CriticalPath);
    }

    /// <inheritdoc/>
    protected internal override IEnumerable<int> Run(LongVideoPipeline pipe, GenerationRequest r,
        Dictionary<int, Tensor> known, IProgress<GenerationProgress>? progress, CancellationToken ct)
    {
        pipe.CheckUnitLength(r.Length);
        var schedule = new AutoregressiveSchedule(r.Frames, r.Length);
        for (int i = 0; i < schedule.Units.Count; i++)
        {
            var u = schedule.Units[i];
            var outs = pipe.SampleBatch(r, new List<WorkUnit> { u }, known, ct);
            LongVideoPipeline.Record(u, outs[0], known);
            progress?.Report(new GenerationProgress(1, 1, i + 1, schedule.Units.Count, i + 1, schedule.Units.Count));
            yield return 0;
        }
    }
}
