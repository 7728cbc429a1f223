using Longshot.Tensors;

namespace Longshot.Diffusion.Schedulers;

/// <summary>Settings of a scheduler beyond the noise schedule (only DDIM has one today).</summary>
/// <param name="Eta">DDIM's eta: 0 is deterministic, 1 is as noisy as DDPM.</param>
public sealed record SchedulerOptions(float Eta = 0f);

/// <summary>
/// A sampler in diffusers' style: set the number of steps, then walk <see cref="Timesteps"/> calling
/// <see cref="Step"/>. <see cref="Create"/> makes one by name.
/// </summary>
public abstract class Scheduler
{
    /// <summary>The names <see cref="Create"/> knows, the default first.</summary>
    public static IReadOnlyList<string> Names { get; } = new[] { "dpm++", "ddim", "ddpm" };

    /// <summary>A fresh scheduler by name (dpm++, ddim, ddpm) over the model's noise schedule.</summary>
    public static Scheduler Create(string name, SchedulerConfig config, SchedulerOptions? options = null)
    {
        options ??= new SchedulerOptions();
        if (!float.IsFinite(options.Eta) || options.Eta < 0 || options.Eta > 1)
            throw new LongshotException($"scheduler: eta must be between 0 and 1, got {options.Eta}.");
        if (options.Eta != 0 && name != "ddim")
            throw new LongshotException($"scheduler: eta applies to ddim only, not {name}.");
        return name switch
        {
            "ddpm" => new DdpmScheduler(config),
            "ddim" => new DdimScheduler(config, options.Eta),
            "dpm++" => new DpmSolverMultistepScheduler(config),
            _ => throw new LongshotException($"scheduler: unknown scheduler '{name}' ({string.Join(", ", Names)})."),
        };
    }

    public NoiseSchedule Schedule { get; }
    public int[] Timesteps { get; protected set; } = Array.Empty<int>();

    protected Scheduler(SchedulerConfig config) => Schedule = new NoiseSchedule(config);

    public virtual void SetTimesteps(int steps) => Timesteps = Schedule.Spaced(steps);

    /// <summary>
    /// Keeps only the timesteps at or below <paramref name="strength"/> of the schedule (img2img's strength: the
    /// sample starts as data noised to the first kept timestep). At least the last timestep stays.
    /// </summary>
    public void StartAt(double strength)
    {
        if (!(strength > 0 && strength <= 1))
            throw new LongshotException($"scheduler: start strength must be in (0, 1], got {strength}.");
        int max = (int)Math.Round(strength * (Schedule.T - 1));
        var kept = Timesteps.Where(t => t <= max).ToArray();
        Timesteps = kept.Length > 0 ? kept : new[] { Timesteps[^1] };
    }

    /// <summary>The timestep after t in the current schedule (-1 after the last).</summary>
    protected int Previous(int t)
    {
        int i = Array.IndexOf(Timesteps, t);
        if (i < 0)
            throw new LongshotException($"scheduler: timestep {t} is not in the current schedule; call SetTimesteps " +
            $"and use Timesteps.");
        return i + 1 < Timesteps.Length ? Timesteps[i + 1] : -1;
    }

    /// <summary>One denoising step from timestep t: the sample at the next timestep.</summary>
    public abstract Tensor Step(Tensor modelOutput, int t, Tensor sample, Rng? rng = null);

    public Tensor AddNoise(Tensor x0, Tensor noise, int[] timesteps) => Schedule.AddNoise(x0, noise, timesteps);

    /// <summary>What a multistep scheduler carries from one step to the next, to resume a sampling run between steps
    /// exactly; empty for one-step schedulers.</summary>
    public virtual Dictionary<string, Tensor> SaveState() => new();

    /// <summary>Restores what <see cref="SaveState"/> gave (after <see cref="SetTimesteps"/>).</summary>
    public virtual void LoadState(IReadOnlyDictionary<string, Tensor> state) { }
}
