using Longshot.Diffusion;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;

namespace Longshot.Eval.Metrics;

/// <summary>
/// How visible the seams of a local unit are: the shipped global model draws keyframes for the demo storyline, the
/// local model fills the first few level-2 gaps between them, and the RMS latent jump from each given frame to its
/// generated neighbour is compared with the RMS jump between neighbouring generated frames (equal: no seam).
/// </summary>
public static class SeamProbe
{
    /// <summary>Mean seam jump and mean neighbour jump over <paramref name="units"/> units.</summary>
    public static (double Seam, double Neighbour) Measure(bool holdGivenFrames, int units = 6,
        SamplerOptions? sampler = null)
    {
        var o = sampler ?? ShippedModels.Sampler;
        var vae = AutoencoderKL.Load(ShippedModels.Vae());
        int size = vae.LatentSize, c = vae.Config.LatentChannels;
        var story = Storyline.Load(ShippedModels.DemoStory());
        var schedule = new DodSchedule(226, 16);
        var g = schedule.Levels[0][0];
        var global = new MtdSampler(MtdPipelineParts.Load(ShippedModels.Global()), c, size, size);
        var keys = global.Sample(new[] { new MtdClip(g.Positions, g.Positions.Select(story.PromptAt).ToArray(),
            new Tensor?[g.Positions.Length], new Rng(1).Derive(1, 0)) }, o)[0];
        var local = new MtdSampler(MtdPipelineParts.Load(ShippedModels.Local()), c, size,
            size) { HoldGivenFrames = holdGivenFrames };
        double seam = 0, neighbour = 0;
        int seams = 0, neighbours = 0;
        foreach (var u in schedule.Levels[1].Take(units))
        {
            int last = u.Positions.Length - 1;
            var given = u.Positions.Select((_, f) => f == 0 || f == last
                ? keys.Narrow(0, u.Index + (f == 0 ? 0 : 1), 1).Squeeze(0).Contiguous() : null).ToArray();
            var z = local.Sample(new[] { new MtdClip(u.Positions, u.Positions.Select(story.PromptAt).ToArray(), given,
                new Rng(1).Derive(2, (ulong)u.Index)) }, o)[0];
            double Jump(int a, int b) => Math.Sqrt(z.Narrow(0, a, 1).ToArray()
                .Zip(z.Narrow(0, b, 1).ToArray(), (x, y) => (double)(x - y) * (x - y)).Average());
            seam += Jump(0, 1) + Jump(last - 1, last);
            seams += 2;
            for (int f = 1; f < last - 1; f++) { neighbour += Jump(f, f + 1); neighbours++; }
        }
        return (seam / seams, neighbour / neighbours);
    }
}
