using System.Diagnostics;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Text;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Unet;
using Longshot.Tensors;
using Longshot.Tensors.Devices;
using Longshot.Tensors.Optim;

namespace Longshot.Bench;

/// <summary>One MTD training step (UNet + text encoder, AdamW) for L = 16 frames of 16x16x4 latents, and resident
/// memory.</summary>
internal static class MtdBench
{
    public static void Run()
    {
        var (_, step, forward, shape) = Setup(Device.Cpu, 2, small: false);
        double s = Report.Time(() => step(), warmup: 2, minSeconds: 10);
        Report.Emit("mtd", $"train step {shape}", "builtin", s * 1e3, "ms");
        Process.GetCurrentProcess().Refresh();
        Report.Emit("mtd", "resident memory after training steps", "builtin", Process.GetCurrentProcess()
            .WorkingSet64 / 1e6, "MB");
        Report.Emit("mtd", "UNet forward L=16 (one sampling call, no guidance)", "builtin",
            Report.Time(forward, minSeconds: 5) * 1e3, "ms");
    }

    private static readonly string Caption = "Wide shot of the beach at noon. Ziggy, in an orange shirt and an " +
        "antenna, waves; Pax, in a blue shirt and a top hat, stands.";

    /// <summary>The mtd case's model on <paramref name="device"/> (a small one, 4 frames of 8 x 8, when
    /// <paramref name="small"/>: ILGPU's CPU accelerator), one training step of it (L frames, the ends given, noise
    /// from <paramref name="seed"/>; returns the loss) and one sampling call.</summary>
    public static (MtdPipelineParts Parts, Func<float> Step, Action Forward, string Shape) Setup(Device device,
        ulong seed, bool small)
    {
        var tok = WordTokenizer.Build(new[] { Caption }, 48);
        var unet = small
            ? new MaskUnetConfig { BlockOutChannels = new[] { 32, 32 }, AttentionLevels = new[] { false, true } }
            : new MaskUnetConfig();
        var parts = MtdPipelineParts.Create(unet,
            new TextEncoderConfig { VocabSize = tok.VocabularySize, MaxLength = 48 }, tok, new SchedulerConfig(), 1);
        parts.ToDevice(device);
        var opt = new AdamW(parts.Parameters.Trainable, 2e-4f);
        var rng = new Rng(seed);
        int l = small ? 4 : 16, size = small ? 8 : 16;
        var x0 = Tensor.Randn(rng, l, 4, size, size).ToDevice(device);
        var given = Enumerable.Range(0, l).Select(i => i == 0 || i == l - 1).ToArray();
        var (cond, mask) = MtdConditions.Build(x0, given);
        var positions = Enumerable.Range(0, l).Select(i => i * 15).ToArray();
        var timesteps = Enumerable.Repeat(500, l).ToArray();
        var captions = Enumerable.Repeat(Caption, l).ToList();
        float Step()
        {
            var noise = Tensor.Randn(rng, x0.Shape).ToDevice(device);
            var xt = parts.Schedule.AddNoise(x0, noise, timesteps);
            var loss = Ops.MseLoss(parts.Unet.Forward(new MtdInput(xt, new[] { 500 }, parts.EncodePrompts(captions),
                cond, mask, positions)), noise);
            opt.Step(loss.Backward());
            return loss.Item();
        }
        void Forward()
        {
            using var _ = Tensor.NoGrad();
            parts.Unet.Forward(new MtdInput(x0, new[] { 500 }, parts.EncodePrompts(captions), cond, mask, positions));
        }
        return (parts, Step, Forward,
            $"L={l} {size}x{size}x4 latents ({parts.Parameters.ElementCount:N0} params)");
    }
}
