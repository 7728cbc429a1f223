using Longshot.Tensors;

namespace Longshot.Diffusion.Schedulers;

/// <summary>
/// A published pipeline's sampler, walked by step index: the model is called at <see cref="Timesteps"/>[i] on the
/// sample (these schedulers need no input scaling and start from unit noise), then <see cref="Step"/> gives the next
/// sample. A stochastic one asks its noise function for a standard normal tensor of the sample's shape.
/// </summary>
public interface IStepScheduler
{
    /// <summary>The training timesteps the model sees, one per step.</summary>
    IReadOnlyList<int> Timesteps { get; }

    /// <summary>Sets the schedule for <paramref name="steps"/> model calls and clears any state.</summary>
    void SetTimesteps(int steps);

    /// <summary>The sample after step <paramref name="index"/>.</summary>
    Tensor Step(Tensor modelOutput, int index, Tensor sample, Func<Tensor>? noise = null);

    /// <summary>What the next step needs of the steps before it (a multistep solver's last prediction), to save
    /// with the latents; empty for a one-step scheduler.</summary>
    IReadOnlyDictionary<string, Tensor> SaveState();

    /// <summary>Puts back what <see cref="SaveState"/> saved, after <see cref="SetTimesteps"/>.</summary>
    void LoadState(IReadOnlyDictionary<string, Tensor> state);
}

/// <summary>The schedulers a diffusers scheduler_config.json names, by class.</summary>
public static class StepSchedulers
{
    private static readonly Dictionary<string, Func<DiffusersSchedulerConfig, IStepScheduler>> ByClass = new()
    {
        [DiffusersSchedulerConfig.Ddim] = c => new DiffusersDdimScheduler(c),
        [DiffusersSchedulerConfig.DpmSolver] = c => new DiffusersDpmSolverScheduler(c),
    };

    /// <summary>The scheduler of <paramref name="config"/>'s class.</summary>
    public static IStepScheduler Create(DiffusersSchedulerConfig config)
    {
        config.Validate();
        return ByClass[config.ClassName](config);
    }
}
