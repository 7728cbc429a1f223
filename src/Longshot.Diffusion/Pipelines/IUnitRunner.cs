using Longshot.Tensors;

namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// Where diffusion-over-diffusion units are sampled while the pipeline schedules them: threads of this process
/// (<see cref="ThreadUnitRunner"/>) or the ranks of an MPI job (<see cref="Distributed.RankUnitRunner"/>). The video
/// does not depend on which: every unit's noise comes from its own seed.
/// </summary>
internal interface IUnitRunner : IDisposable
{
    /// <summary>Batches that can be sampled at once.</summary>
    int Capacity { get; }

    /// <summary>Batches being sampled now.</summary>
    int Running { get; }

    /// <summary>Starts sampling <paramref name="batch"/>; <paramref name="alone"/>: nothing else will run beside
    /// it.</summary>
    void Start(List<WorkUnit> batch, bool alone);

    /// <summary>Waits for a batch to finish and returns its units with their latents.</summary>
    (List<WorkUnit> Units, List<Tensor> Latents) WaitAny(CancellationToken ct);
}
