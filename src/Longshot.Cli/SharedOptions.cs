using System.CommandLine;
using Longshot.Diffusion;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Schedulers;

namespace Longshot.Cli;

/// <summary>--global, --local, --vae and --extended: the model folders (default: the shipped ones); --device: where
/// they sample.</summary>
internal sealed class ModelOptions
{
    public Option<string?> Global { get; } = CliOptions.ModelFolder("--global",
        "global MTD folder (default: models/toonworld-global)");
    public Option<string?> Local { get; } = CliOptions.ModelFolder("--local",
        "local MTD folder (default: models/toonworld-local)");
    public Option<string?> Vae { get; } = CliOptions.VaeFolder("--vae",
        "T-KLVAE folder (default: models/toonworld-vae)");

    public Option<string?> Extended { get; } = CliOptions.ModelFolder("--extended",
        "long-context image-to-video MTD of --scheme extended (default: models/toonworld-extended)");

    public Option<string?> Device { get; } = DeviceOption.Create();

    public Option[] All => new Option[] { Global, Local, Vae, Extended, Device };

    /// <summary>The pipeline over the chosen models (the extended model only when <paramref name="extended"/>), on
    /// the device asked for.</summary>
    public LongVideoPipeline Load(ParseResult p, bool extended = false)
    {
        var pipe = LongVideoPipeline.Load(p.GetValue(Global) ?? ShippedModels.Global(),
            p.GetValue(Local) ?? ShippedModels.Local(), p.GetValue(Vae) ?? ShippedModels.Vae());
        DeviceOption.Apply(p, Device, pipe);
        if (extended) pipe.ExtendedModel = MtdPipelineParts.Load(p.GetValue(Extended) ?? ShippedModels.Extended());
        pipe.Warning = w => Console.Error.WriteLine($"longshot: warning: {w}");
        return pipe;
    }
}

/// <summary>How units are sampled: --scheme, --length, --steps, --guidance, --sampler, --eta, --seed.</summary>
internal sealed class SamplingOptions
{
    private static readonly SamplerOptions Shipped = ShippedModels.Sampler;

    public Option<string> Scheme { get; } = CliOptions.Choice("--scheme",
        "dod: diffusion over diffusion; ar: the autoregressive baseline; clips: clip parallelism (Video-Infinity); " +
        "extended: one pass of the ExVideo-extended model",
        GenerationSchemes.Names.ToArray());
    public Option<int> Length { get; } = CliOptions.Int("--length",
        "frames per model call (L) the models were trained for", 16, 3, 1024);
    public Option<int?> Depth { get; } = CliOptions.OptionalInt("--depth",
        "levels of the dod hierarchy (default: the fewest that reach consecutive frames, more where keyframes " +
        "would be under 8 frames apart)",
        1, 12);
    public Option<int> Steps { get; } = CliOptions.Int("--steps", "denoising steps per unit", Shipped.Steps, 1, 1000);
    public Option<int> GlobalSteps { get; } = GlobalStepsOption();
    public Option<double> Guidance { get; } = CliOptions.Number("--guidance",
        "classifier-free guidance scale (1: off)", Shipped.GuidanceScale, 0, SamplerOptions.MaxGuidance);
    public Option<string> Sampler { get; } = CliOptions.Choice("--sampler", "scheduler", Scheduler.Names.ToArray());
    public Option<double> Eta { get; } = CliOptions.Number("--eta", "DDIM's eta (ddim only; 0: deterministic)", 0, 0,
        1);
    public Option<double> NoiseCorrelation { get; } = NoiseCorrelationOption();
    public Option<double> FillStart { get; } = FillStartOption();
    public Option<int> FillEase { get; } = FillEaseOption();
    public Option<ulong> Seed { get; } = CliOptions.Seed();

    public Option[] All => new Option[] { Scheme, Length, Depth, Steps, GlobalSteps, Guidance, Sampler, Eta,
        NoiseCorrelation, FillStart, FillEase, Seed };

    /// <summary>`--global-steps`: denoising steps of the global model's units (the keyframes).</summary>
    public static Option<int> GlobalStepsOption() => CliOptions.Int("--global-steps",
        "denoising steps of the global model's units, the keyframes (0: as many as --steps)", Shipped.GlobalSteps, 0,
        1000);

    /// <summary>`--noise-correlation`: the share of each unit's starting noise common to its frames.</summary>
    public static Option<double> NoiseCorrelationOption() => CliOptions.Number("--noise-correlation",
        "share of each unit's starting noise common to all its frames (0: independent; smoother video when higher)",
        Shipped.NoiseCorrelation, 0, 0.99);

    /// <summary>`--fill-start`: the share of the noise schedule a unit between given frames is sampled over.</summary>
    public static Option<double> FillStartOption() => CliOptions.Number("--fill-start",
        "units between given frames start from those frames blended along time, noised to this share of the " +
        "schedule (1: from pure noise; lower: smoother and faster)", Shipped.FillStart, 0.01, 1);

    /// <summary>`--fill-ease`: over how many slots a fill eases into its given frames.</summary>
    public static Option<int> FillEaseOption() => CliOptions.Int("--fill-ease",
        "a frame of such a unit k slots from a given frame keeps k/N of what sampling changed (1: all; higher: " +
        "gentler seams)", Shipped.FillEase, 1, 1000);

    public GenerationRequest Request(ParseResult p, Storyline story, int frames) => new(story, frames)
    {
        Scheme = SchemeOf(p), Length = p.GetValue(Length), Seed = p.GetValue(Seed),
        Sampler = SamplerOptions.Shipped with
        {
            Steps = p.GetValue(Steps), GuidanceScale = (float)p.GetValue(Guidance), Scheduler = p.GetValue(Sampler)!,
            Eta = (float)p.GetValue(Eta), NoiseCorrelation = (float)p.GetValue(NoiseCorrelation),
            FillStart = (float)p.GetValue(FillStart), FillEase = p.GetValue(FillEase),
            GlobalSteps = p.GetValue(GlobalSteps),
        },
    };

    /// <summary>The scheme of --scheme, with --depth when given (diffusion over diffusion's own setting).</summary>
    private GenerationScheme SchemeOf(ParseResult p)
    {
        var scheme = GenerationSchemes.Parse(p.GetValue(Scheme)!);
        if (p.GetValue(Depth) is not { } depth) return scheme;
        return scheme is DiffusionOverDiffusion dod ? dod with { Depth = depth }
            : throw new Tensors.LongshotException($"--depth: the {scheme.Name} scheme has no hierarchy (--depth is " +
                "for dod).");
    }
}
