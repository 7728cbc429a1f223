using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Layers;
using Longshot.Distributed;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>Runs for the clip-parallel tests: a job over in-process ranks, and a layer over the clips of a
/// video.</summary>
internal static class ClipTestRuns
{
    /// <summary>Runs <paramref name="run"/> on <paramref name="ranks"/> in-process ranks (a thread each), checks that
    /// every rank got the same values and returns them.</summary>
    public static float[] OverRanks(int ranks, Func<ICommunicator, float[]> run)
    {
        var comms = InProcessCommunicator.CreateGroup(ranks);
        var outs = new float[ranks][];
        var threads = comms.Select((c, i) => new Thread(() => outs[i] = run(c))).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        for (int i = 1; i < ranks; i++) Assert.Equal(outs[0], outs[i]);
        return outs[0];
    }

    /// <summary>Runs <paramref name="clipForward"/> on each clip of <paramref name="video"/> [F, ...] in clips of 4, on
    /// threads sharing one exchange (local scope, window 1), and returns the clips' outputs joined.</summary>
    public static Tensor OverClips(Tensor video, Func<Tensor, TemporalScope, Tensor> clipForward)
    {
        var settings = new ClipSettings(4, ClipAttention.Local, Window: 1);
        var layout = settings.Layout(video.Shape[0]);
        var board = new ClipBoard(layout, new SingleProcessCommunicator(), 0, layout.Clips);
        var parts = new Tensor[layout.Clips];
        var threads = Enumerable.Range(0, layout.Clips).Select(c => new Thread(() =>
        {
            using var noGrad = Tensor.NoGrad();
            var scope = new TemporalScope(1, new ClipExchange(board, layout, settings, c, c));
            parts[c] = clipForward(video.Narrow(0, layout.Start(c), layout.Length(c)).Contiguous(), scope);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return Ops.Concat(parts, 0);
    }
}
