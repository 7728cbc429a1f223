using Longshot.Diffusion.Pipelines;
using Longshot.Tensors;

namespace Longshot.Diffusion.Schemes;

/// <summary>
/// ExVideo's scheme: one pass of a long-context (extended) image-to-video model over every frame, the first frame
/// given: <see cref="FirstFrame"/> encoded by the VAE, else frame 0 of a 16-frame clip the global model draws.
/// </summary>
/// <param name="FirstFrame">The first frame, [3, H, W] in [-1, 1] at the VAE's frame size (null: the global model
/// draws it).</param>
public sealed record Extended(Tensor? FirstFrame = null) : GenerationScheme
{
    /// <inheritdoc/>
    public override string Name => "extended";

    /// <inheritdoc/>
    public override string Title => "extended model";

    /// <inheritdoc/>
    public override bool OnStoryModels => false;

    /// <inheritdoc/>
    public override GenerationPlan Plan(GenerationRequest r) => GenerationPlan.OneLevel(this, r.Frames, 1, 1);

    /// <inheritdoc/>
    protected internal override IEnumerable<int> Run(LongVideoPipeline pipe, GenerationRequest r,
        Dictionary<int, Tensor> known, IProgress<GenerationProgress>? progress, CancellationToken ct)
    {
        // 1. Check inputs: the model and how many frames its position tables hold.
        var sampler = pipe.ExtendedSampler ?? throw new SettingException("ExtendedModel", "the extended scheme needs " +
            "an extended model (training's extend role makes one).");
        LongVideoPipeline.CheckTables(sampler, r.Frames, "the extended model");
        // 2. Prepare the first frame.
        var first = FirstFrame is { } image ? Encode(pipe, image) : DrawFirstFrame(pipe, r, ct);
        // 3. Denoise every frame at once with the first one given.
        var given = new Tensor?[r.Frames];
        given[0] = first;
        var whole = new MtdClip(Enumerable.Range(0, r.Frames).ToArray(), Enumerable.Range(0, r.Frames)
            .Select(r.Story.PromptAt).ToArray(), given, new Rng(r.Seed).Derive(2, 0));
        var latents = sampler.Sample(new[] { whole }, r.Sampler, ct)[0];
        for (int f = 0; f < r.Frames; f++) known[f] = latents.Narrow(0, f, 1).Squeeze(0).Contiguous();
        progress?.Report(new GenerationProgress(1, 1, 1, 1, 1, 1));
        yield return 0;
    }

    /// <summary>The image's latents, scaled as the diffusion models see them.</summary>
    private static Tensor Encode(LongVideoPipeline pipe, Tensor image)
    {
        int size = pipe.Vae.Config.SampleSize;
        if (image.Rank != 3 || image.Shape[0] != 3 || image.Shape[1] != size || image.Shape[2] != size)
            throw new SettingException(nameof(FirstFrame), $"the initial image must be {size} x {size} RGB (the " +
                "VAE's frame size).");
        using var _ = Tensor.NoGrad();
        return pipe.Vae.ScaleLatents(pipe.Vae.Encode(image.Unsqueeze(0)).Mean).Squeeze(0).Contiguous();
    }

    /// <summary>Frame 0 of a 16-frame clip the global model draws for the story's start.</summary>
    private static Tensor DrawFirstFrame(LongVideoPipeline pipe, GenerationRequest r, CancellationToken ct)
    {
        int n = Math.Min(16, r.Frames);
        var clip = new MtdClip(Enumerable.Range(0, n).ToArray(), Enumerable.Range(0, n).Select(r.Story.PromptAt)
            .ToArray(), new Tensor?[n], new Rng(r.Seed).Derive(1, 0));
        return pipe.GlobalSampler.Sample(new[] { clip }, r.Sampler.ForGlobal(), ct)[0].Narrow(0, 0, 1).Squeeze(0)
            .Contiguous();
    }
}
