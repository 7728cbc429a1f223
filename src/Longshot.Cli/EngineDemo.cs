using System.Diagnostics;
using Longshot.Tensors;
using Longshot.Tensors.Nn;
using Longshot.Tensors.Optim;

namespace Longshot.Cli;

/// <summary>
/// Trains a small spatio-temporal denoiser (conv, temporal conv, temporal attention) to reconstruct a synthetic
/// video of a moving square from a noisy copy: an end-to-end exercise of the engine until the video models land.
/// </summary>
internal static class EngineDemo
{
    public sealed record StepReport(int Step, int Total, float Loss, double MsPerStep);

    public sealed record Result(float FirstLoss, float LastLoss, double Seconds, long Parameters);

    private const int Frames = 8, Size = 16, Width = 32;

    public static Result Run(int steps, IProgress<StepReport> progress, CancellationToken ct)
    {
        var store = new ParameterStore();
        var vb = VarBuilder.Fresh(store, 1);
        var convIn = new Conv2d(vb.Pp("conv_in"), 3, Width, 3, padding: 1);
        var norm = new GroupNorm(vb.Pp("norm"), 8, Width);
        var temporal = new Conv1d(vb.Pp("temporal_conv"), Width, Width, 3, padding: 1, init: Init.IdentityConv,
            biasInit: Init.Zeros);
        var attn = new MultiHeadAttention(vb.Pp("temporal_attn"), Width, 4, zeroOut: true);
        var convOut = new Conv2d(vb.Pp("conv_out"), Width, 3, 3, padding: 1);
        var opt = new AdamW(store.Trainable, 3e-3f, weightDecay: 0f);
        var rng = new Rng(7);
        var clean = MovingSquare();
        float first = 0, last = 0;
        var total = Stopwatch.StartNew();
        for (int s = 1; s <= steps; s++)
        {
            ct.ThrowIfCancellationRequested();
            var sw = Stopwatch.StartNew();
            var noisy = clean + Tensor.Randn(rng, clean.Shape) * 0.3f;
            var h = norm.Forward(convIn.Forward(noisy), silu: true);               // [F, C, H, W]
            var t = h.Reshape(Frames, Width, Size * Size).Permute(2, 1, 0);         // [HW, C, F]
            t = temporal.Forward(t);
            var tokens = t.Permute(0, 2, 1);                                        // [HW, F, C]
            tokens = tokens + attn.Forward(tokens);
            h = tokens.Permute(1, 2, 0).Reshape(Frames, Width, Size, Size);
            var loss = Ops.MseLoss(convOut.Forward(h), clean);
            opt.Step(loss.Backward());
            last = loss.Item();
            if (s == 1) first = last;
            NumericCheck.ThrowIfNotFinite(loss, s);
            progress.Report(new StepReport(s, steps, last, sw.Elapsed.TotalMilliseconds));
        }
        return new Result(first, last, total.Elapsed.TotalSeconds, store.ElementCount);
    }

    /// <summary>A red square moving right over a blue-to-green gradient, [F, 3, H, W] in [-1, 1].</summary>
    private static Tensor MovingSquare()
    {
        var v = Tensor.Zeros(Frames, 3, Size, Size);
        for (int f = 0; f < Frames; f++)
            for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                {
                    bool inSquare = x >= f + 2 && x < f + 7 && y >= 5 && y < 10;
                    v[f, 0, y, x] = inSquare ? 1f : -1f;
                    v[f, 1, y, x] = inSquare ? -1f : y / (float)Size * 2 - 1;
                    v[f, 2, y, x] = inSquare ? -1f : 1 - y / (float)Size * 2;
                }
        return v;
    }
}
