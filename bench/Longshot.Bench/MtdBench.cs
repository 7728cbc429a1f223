using System.Diagnostics;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Text;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Unet;
using Longshot.Tensors;
using Longshot.Tensors.Optim;

namespace Longshot.Bench;

/// <summary>One MTD training step (UNet + text encoder, AdamW) for L = 16 frames of 16x16x4 latents, and resident
/// memory.</summary>
internal static class MtdBench
{
    public static void Run()
    {
        var captions = new[] { "Wide shot of the beach at noon. Ziggy, in an orange shirt and an antenna, waves; " +
            "Pax, in a blue shirt and a top hat, stands." };
        var tok = WordTokenizer.Build(captions, 48);
        var parts = MtdPipelineParts.Create(new MaskUnetConfig(),
            new TextEncoderConfig { VocabSize = tok.VocabularySize, MaxLength = 48 }, tok, new SchedulerConfig(), 1);
        var opt = new AdamW(parts.Parameters.Trainable, 2e-4f);
        var rng = new Rng(2);
        const int l = 16;
        var x0 = Tensor.Randn(rng, l, 4, 16, 16);
        var given = Enumerable.Range(0, l).Select(i => i == 0 || i == l - 1).ToArray();
        var (cond, mask) = MtdConditions.Build(x0, given);
        var positions = Enumerable.Range(0, l).Select(i => i * 15).ToArray();
        void Step()
        {
            var prompts = parts.EncodePrompts(Enumerable.Repeat(captions[0], l).ToList());
            var noise = Tensor.Randn(rng, x0.Shape);
            var xt = parts.Schedule.AddNoise(x0, noise, Enumerable.Repeat(500, l).ToArray());
            var loss = Ops.MseLoss(parts.Unet.Forward(new MtdInput(xt, new[] { 500 }, prompts, cond, mask, positions)),
                noise);
            opt.Step(loss.Backward());
        }
        double s = Report.Time(Step, warmup: 2, minSeconds: 10);
        Report.Emit("mtd", $"train step L=16 16x16x4 latents ({parts.Parameters.ElementCount:N0} params)", "builtin",
            s * 1e3, "ms");
        Process.GetCurrentProcess().Refresh();
        Report.Emit("mtd", "resident memory after training steps", "builtin", Process.GetCurrentProcess()
            .WorkingSet64 / 1e6, "MB");
        double f;
        using (Tensor.NoGrad())
            f = Report.Time(() =>
                parts.Unet.Forward(new MtdInput(x0, new[] { 500 },
                parts.EncodePrompts(Enumerable.Repeat(captions[0], l).ToList()), cond, mask, positions)),
                minSeconds: 5);
        Report.Emit("mtd", "UNet forward L=16 (one sampling call, no guidance)", "builtin", f * 1e3, "ms");
    }
}
